package transport

// Adversarial tests of server streaming over HTTP for fixtures/streaming,
// copied into a generated project by tests/transcoding.rs.

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"chat/pb"
	"chat/pkg/endpoints"
	"chat/pkg/service/servicetest"
)

// slowChat sends four messages 150 ms apart, or to room "quiet" none after
// 450 ms.
type slowChat struct {
	*servicetest.Chat
}

func (slowChat) Subscribe(ctx context.Context, req *pb.SubscribeRequest, send func(*pb.Message) error) error {
	if req.GetRoom() == "quiet" {
		time.Sleep(450 * time.Millisecond)
		return nil
	}
	for range 4 {
		time.Sleep(150 * time.Millisecond)
		if err := send(&pb.Message{Room: req.GetRoom(), Text: "tick"}); err != nil {
			return err
		}
	}
	return nil
}

// A stream lasts as long as its caller wants: the server's WriteTimeout (60 s
// in pkg/server) bounds each message, not the whole stream, which it cut off
// mid-stream with no error line.
func TestAdversarialStreamOutlivesWriteTimeout(t *testing.T) {
	in := endpoints.Instrumentation{}
	handler := NewHTTPHandler(endpoints.NewChatSet(slowChat{&servicetest.Chat{}}, in), endpoints.NewFirehoseSet(&servicetest.Firehose{}, in))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: recordExchanges(t, handler), WriteTimeout: 300 * time.Millisecond}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	stream := func(room string) (int, []string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+l.Addr().String()+"/v1/rooms/"+room+"/messages", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var lines []string
		scanner := bufio.NewScanner(resp.Body)
		for scanner.Scan() {
			lines = append(lines, scanner.Text())
		}
		return resp.StatusCode, lines, scanner.Err()
	}
	status, lines, err := stream("r")
	if err != nil || status != http.StatusOK || len(lines) != 4 {
		t.Fatalf("status %d, %d lines (%v), want 200 and 4:\n%s", status, len(lines), err, strings.Join(lines, "\n"))
	}
	for _, line := range lines {
		if line != `{"result":{"room":"r","text":"tick"}}` && line != `{"result":{"room":"r", "text":"tick"}}` {
			t.Errorf("line %s", line)
		}
	}
	// A stream that ends with no message after the WriteTimeout still
	// answers: 200 and no line.
	if status, lines, err := stream("quiet"); err != nil || status != http.StatusOK || len(lines) != 0 {
		t.Errorf("quiet stream: status %d, lines %q, %v; want 200 and none", status, lines, err)
	}
}
