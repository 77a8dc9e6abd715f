package transport

// A recorder of HTTP exchanges for the Go test harnesses (tests/transcoding.rs
// and tests/gateway.rs copy it into a generated project's pkg/transport):
// every request a test sends to kitgen's handler and the reply, one JSON line
// each, in the file KITGEN_EXCHANGES names, for
// tests/support/openapi_exchanges.py to check against the project's OpenAPI
// document.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"
)

// Bodies longer than this are logged with their long strings cut short.
const exchangeBodyLimit = 64 << 10

var exchangeLog sync.Mutex

type exchange struct {
	Method      string  `json:"method"`
	URL         string  `json:"url"`
	Body        *string `json:"body"`
	Shortened   bool    `json:"shortened,omitempty"`
	Status      int     `json:"status"`
	ContentType string  `json:"content_type"`
	Response    string  `json:"response"`
}

// recordExchanges wraps h so that each exchange with it is appended to the
// log. A harness that sets no log fails the test rather than check nothing.
func recordExchanges(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	path := os.Getenv("KITGEN_EXCHANGES")
	if path == "" {
		t.Fatal("KITGEN_EXCHANGES names no file to record the exchanges in")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the request body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &replyRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		e := exchange{Method: r.Method, URL: r.RequestURI, Status: rec.status, Response: rec.body.String()}
		if r.Method == http.MethodHead {
			e.Response = "" // net/http sends no body in reply to HEAD
		}
		if e.Status == 0 {
			e.Status = http.StatusOK
		}
		if len(body) > 0 {
			logged, shortened := shortenBody(body)
			e.Body, e.Shortened = &logged, shortened
		}
		// What net/http sends: the handler's Content-Type, else a sniffed one.
		e.ContentType = w.Header().Get("Content-Type")
		if e.ContentType == "" && rec.body.Len() > 0 {
			e.ContentType = http.DetectContentType(rec.body.Bytes())
		}
		line, err := json.Marshal(e)
		if err != nil {
			t.Errorf("logging the exchange: %v", err)
			return
		}
		exchangeLog.Lock()
		defer exchangeLog.Unlock()
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			_, err = f.Write(append(line, '\n'))
			err = errors.Join(err, f.Close())
		}
		if err != nil {
			t.Errorf("logging the exchange: %v", err)
		}
	})
}

// shortenBody returns a body fit for the log: as it is, or, past the limit,
// its JSON with every long string cut (types kept, so the document checks
// it the same way), or its first bytes when it is not JSON.
func shortenBody(body []byte) (string, bool) {
	if len(body) <= exchangeBodyLimit {
		return string(body), false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return string(body[:exchangeBodyLimit]), true
	}
	data, err := json.Marshal(shortenStrings(v))
	if err != nil {
		return string(body[:exchangeBodyLimit]), true
	}
	return string(data), true
}

func shortenStrings(v any) any {
	switch v := v.(type) {
	case string:
		if len(v) > 1024 {
			return v[:1024]
		}
	case map[string]any:
		for k, e := range v {
			v[k] = shortenStrings(e)
		}
	case []any:
		for i, e := range v {
			v[i] = shortenStrings(e)
		}
	}
	return v
}

// replyRecorder keeps the status and body a handler writes, passing both on.
type replyRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *replyRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *replyRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController flush a stream through the recorder.
func (r *replyRecorder) Unwrap() http.ResponseWriter {
	return r.ResponseWriter
}
