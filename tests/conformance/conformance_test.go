package transport

// Cross-language conformance, copied into a generated Go project by
// tests/rust_conformance.rs with tests/gateway/oracle_test.go (whose request
// corpus it reuses) and a glue file (conformanceSetup). The same proto as a
// Rust project serves HTTP on loopback (RUST_ADDR) over a recording fake
// (examples/conformance.rs, written by the harness); every request of the
// corpus goes to the Go handler and to the Rust server, and the status, the
// request the service received, the JSON of a 200, the code and status of
// an error body, and the Allow header are compared. A difference is either
// one of the deliberate ones (see conformanceDeliberate, and the README) or
// a failure.

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// rustServer is the Rust project's HTTP server and its fake's controls.
type rustServer struct {
	addr   string
	client *http.Client
}

func (r rustServer) control(t *testing.T, method, path, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+r.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s %v", method, path, resp.StatusCode, data, err)
	}
	return string(data)
}

// respond sets the fake's response of each method, by full method name.
func (r rustServer) respond(t *testing.T, responses map[string]proto.Message) {
	t.Helper()
	var lines []string
	for name, msg := range responses {
		data, err := proto.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, name+" "+hex.EncodeToString(data))
	}
	r.control(t, "POST", "/__conformance/responses", strings.Join(lines, "\n"))
}

// received returns the requests the fake received since the last call.
func (r rustServer) received(t *testing.T) []proto.Message {
	t.Helper()
	var out []proto.Message
	for _, line := range strings.Split(strings.TrimSpace(r.control(t, "POST", "/__conformance/received", "")), "\n") {
		if line == "" {
			continue
		}
		name, data, _ := strings.Cut(line, " ")
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			t.Fatalf("received %s: %v", name, err)
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(d.(protoreflect.MethodDescriptor).Input().FullName())
		if err != nil {
			t.Fatal(err)
		}
		raw, err := hex.DecodeString(data)
		if err != nil {
			t.Fatal(err)
		}
		msg := mt.New().Interface()
		if err := proto.Unmarshal(raw, msg); err != nil {
			t.Fatalf("received %s: %v", name, err)
		}
		out = append(out, msg)
	}
	return out
}

// reply is an answer as the comparison sees it.
type reply struct {
	outcome
	allow       string
	contentType string
}

// sendRust sends c to the Rust server with its target exactly as written.
func (r rustServer) send(t *testing.T, c oracleCase) reply {
	t.Helper()
	path, query, _ := strings.Cut(c.target, "?")
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), c.method, "http://"+r.addr+"/", body)
	if err != nil {
		t.Fatal(err)
	}
	// Opaque keeps the escaped path as it is on the request line.
	req.URL = &url.URL{Scheme: "http", Host: r.addr, Opaque: path, RawQuery: query}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(c.body) > 1<<20 {
		// Wait for the server's go-ahead: a server that refuses the body
		// by its length answers at once, and one that stops reading it
		// closes the connection, which a client still writing sees as a
		// broken pipe rather than as the answer.
		req.Header.Set("Expect", "100-continue")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.target, err)
	}
	return reply{
		outcome:     outcome{status: resp.StatusCode, body: string(data), received: r.received(t)},
		allow:       resp.Header.Get("Allow"),
		contentType: resp.Header.Get("Content-Type"),
	}
}

func sendGo(h http.Handler, c oracleCase, received func() []proto.Message) reply {
	before := len(received())
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.target, body)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	text := rec.Body.String()
	if c.method == "HEAD" {
		text = "" // net/http sends no body to HEAD
	}
	return reply{
		outcome:     outcome{status: rec.Code, body: text, received: received()[before:]},
		allow:       rec.Header().Get("Allow"),
		contentType: rec.Header().Get("Content-Type"),
	}
}

// errorOf is the code and status of an error body, or "" if it is none.
func errorOf(body string) string {
	var e struct {
		Error struct {
			Code   int    `json:"code"`
			Status string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(body), &e) != nil || e.Error.Status == "" {
		return ""
	}
	return fmt.Sprintf("%d %s", e.Error.Code, e.Error.Status)
}

func compareReplies(goR, rust reply) string {
	if d := compare(goR.outcome, rust.outcome); d != "" {
		// compare is the oracle's, which names its sides kitgen and
		// grpc-gateway.
		return strings.NewReplacer("kitgen", "Go", "grpc-gateway", "Rust").Replace(d)
	}
	if goR.status != 200 && goR.status != 204 && errorOf(goR.body) != errorOf(rust.body) {
		return fmt.Sprintf("error Go %.200s, Rust %.200s", goR.body, rust.body)
	}
	if goR.allow != rust.allow {
		return fmt.Sprintf("Allow Go %q, Rust %q", goR.allow, rust.allow)
	}
	goType, _, _ := strings.Cut(goR.contentType, ";")
	rustType, _, _ := strings.Cut(rust.contentType, ";")
	if goType != rustType && goR.body != "" {
		return fmt.Sprintf("Content-Type Go %q, Rust %q", goR.contentType, rust.contentType)
	}
	return ""
}

// conformanceDeliberate names the documented reason for a difference, or "".
func conformanceDeliberate(c oracleCase, goR, rust reply) string {
	if negativeZeroDropped(goR.outcome, rust.outcome) {
		// prost (and prost-reflect) write a float field without presence
		// only when it is != 0.0, which -0.0 is not: the Rust service
		// receives 0, over gRPC too. Go keeps the sign.
		return "negative-zero-float-is-zero"
	}
	return ""
}

// negativeZeroDropped reports whether the Rust service's request differs
// from the Go service's only in float fields that are -0 in Go's and unset
// in Rust's.
func negativeZeroDropped(goR, rust outcome) bool {
	if goR.status != rust.status || len(goR.received) != 1 || len(rust.received) != 1 {
		return false
	}
	// Not Range, nor a clone: both take a -0 for unset.
	original := goR.received[0].ProtoReflect()
	a := proto.Clone(goR.received[0]).ProtoReflect()
	negativeZero := false
	fields := original.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		isFloat := fd.Kind() == protoreflect.DoubleKind || fd.Kind() == protoreflect.FloatKind
		if !isFloat || fd.HasPresence() || fd.IsList() || fd.IsMap() {
			continue
		}
		if v := original.Get(fd).Float(); v == 0 && math.Signbit(v) {
			a.Clear(fd)
			negativeZero = true
		}
	}
	return negativeZero && proto.Equal(a.Interface(), rust.received[0])
}

func TestConformance(t *testing.T) {
	kit, services := conformanceSetup(t)
	// A connection per request: a server may close a connection whose
	// request body it did not read (hyper does, for a 404), and a POST on
	// it is not retried.
	rust := rustServer{addr: os.Getenv("RUST_ADDR"), client: &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: 5 * time.Second},
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if rust.addr == "" {
		t.Fatal("RUST_ADDR is not set")
	}
	// succeeded counts the 200s of the Go handler, reached the requests
	// its service received: the comparison is more than error statuses.
	total, identical, succeeded, reached := 0, 0, 0, 0
	deliberate := map[string]int{}
	var unexplained []string
	for _, svc := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(svc.name)
		if err != nil {
			t.Fatal(err)
		}
		sd := d.(protoreflect.ServiceDescriptor)
		responses := map[string]proto.Message{}
		byFullName := map[string]proto.Message{}
		for i := 0; i < sd.Methods().Len(); i++ {
			md := sd.Methods().Get(i)
			msg := filled(md.Output(), 0)
			setValues(msg.ProtoReflect())
			responses[string(md.Name())] = msg
			byFullName[string(md.FullName())] = msg
		}
		svc.respond(responses)
		rust.respond(t, byFullName)
		for i := 0; i < sd.Methods().Len(); i++ {
			md := sd.Methods().Get(i)
			if md.IsStreamingClient() {
				continue
			}
			rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
			if rule == nil {
				continue
			}
			for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
				for _, c := range append(casesFor(md, r), extraCases(md, r)...) {
					total++
					a := sendGo(kit, c, svc.kitgen)
					b := rust.send(t, c)
					if a.status == 200 {
						succeeded++
					}
					if len(a.received) > 0 {
						reached++
					}
					diff := compareReplies(a, b)
					if diff == "" {
						identical++
						continue
					}
					if why := conformanceDeliberate(c, a, b); why != "" {
						deliberate[why]++
						continue
					}
					unexplained = append(unexplained, fmt.Sprintf("%s %s %s [%s] body=%.80q: %s", md.FullName(), c.method, c.target, c.kind, c.body, diff))
				}
			}
		}
	}
	clientCalls, clientAgree := 0, 0
	for _, svc := range services {
		calls, agree := goClientAgainstRust(t, rust, svc.name)
		clientCalls += calls
		clientAgree += agree
	}
	// tests/rust_conformance.rs reads this line.
	fmt.Printf("GOCLIENT calls=%d agree=%d\n", clientCalls, clientAgree)
	// The Rust project's HTTP client against the Go handler (served on
	// loopback) and against the Rust server.
	rc := startRustClient(t)
	goServer := httptest.NewServer(kit)
	defer goServer.Close()
	goCalls, goAgree, rustCalls, rustAgree, methods := 0, 0, 0, 0, 0
	for _, svc := range services {
		seen := len(svc.kitgen())
		goSide := clientTarget{
			baseURL: goServer.URL,
			respond: func(r map[protoreflect.FullName]proto.Message) {
				byName := map[string]proto.Message{}
				for name, msg := range r {
					byName[string(name.Name())] = msg
				}
				svc.respond(byName)
			},
			received: func() []proto.Message {
				all := svc.kitgen()
				got := all[seen:]
				seen = len(all)
				return got
			},
		}
		n, calls, agree := rustClientAgainst(t, rc, goSide, svc.name)
		methods += n
		goCalls += calls
		goAgree += agree
		rustSide := clientTarget{
			baseURL: "http://" + rust.addr,
			respond: func(r map[protoreflect.FullName]proto.Message) {
				byName := map[string]proto.Message{}
				for name, msg := range r {
					byName[string(name)] = msg
				}
				rust.respond(t, byName)
			},
			received: func() []proto.Message { return rust.received(t) },
		}
		_, calls, agree = rustClientAgainst(t, rc, rustSide, svc.name)
		rustCalls += calls
		rustAgree += agree
	}
	rc.close(t)
	// tests/rust_conformance.rs reads these lines.
	fmt.Printf("RUSTCLIENT-GO methods=%d calls=%d agree=%d\n", methods, goCalls, goAgree)
	fmt.Printf("RUSTCLIENT-RUST methods=%d calls=%d agree=%d\n", methods, rustCalls, rustAgree)
	var reasons []string
	deliberateTotal := 0
	for why, n := range deliberate {
		reasons = append(reasons, fmt.Sprintf("%s=%d", why, n))
		deliberateTotal += n
	}
	sort.Strings(reasons)
	// tests/rust_conformance.rs reads this line.
	fmt.Printf("CONFORMANCE requests=%d identical=%d deliberate=%d unexplained=%d ok=%d reached=%d reasons=%s\n", total, identical, deliberateTotal, len(unexplained), succeeded, reached, strings.Join(reasons, ","))
	for i, u := range unexplained {
		if i == 60 {
			t.Errorf("and %d more", len(unexplained)-i)
			break
		}
		t.Errorf("unexplained difference: %s", u)
	}
	if total == 0 {
		t.Error("no request was sent")
	}
}

// extraCases are requests beyond the oracle's corpus, on the edges where
// two JSON and number parsers may differ: for each scalar field, values in
// the body (numbers as strings and as floats, out of range, NaN, base64
// variants, enum numbers, nulls, wrong types, a member twice, a field by
// both its names) and in the query (signs, spaces, hex and exponent forms,
// infinities).
func extraCases(md protoreflect.MethodDescriptor, rule *annotations.HttpRule) []oracleCase {
	method, path := ruleMethod(rule)
	t := parseTemplate(path)
	base := t.expand(func(n int, deep bool) string {
		if deep {
			return fmt.Sprintf("d%d/e%d", n, n)
		}
		return fmt.Sprintf("%d", n)
	})
	var cases []oracleCase
	add := func(kind, target, body string) {
		cases = append(cases, oracleCase{method: method, target: target, body: body, kind: "extra:" + kind, verb: t.verb})
	}
	body := rule.GetBody()
	var bodyMsg protoreflect.MessageDescriptor
	switch {
	case body == "*":
		bodyMsg = md.Input()
	case body != "":
		if fd := md.Input().Fields().ByName(protoreflect.Name(body)); fd != nil && fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
			bodyMsg = fd.Message()
		}
	}
	okBody := ""
	if body != "" {
		okBody = bodyJSON(md.Input(), body, nil)
	}
	if bodyMsg != nil {
		for i := 0; i < bodyMsg.Fields().Len(); i++ {
			fd := bodyMsg.Fields().Get(i)
			if fd.IsList() || fd.IsMap() || fd.Message() != nil {
				continue
			}
			name := fd.JSONName()
			for _, v := range jsonEdges(fd) {
				add("body-value", base, "{"+quoteJSON(name)+":"+v+"}")
			}
			add("body-member-twice", base, "{"+quoteJSON(name)+":"+scalarJSON(fd)+","+quoteJSON(name)+":"+scalarJSON(fd)+"}")
			if string(fd.Name()) != name {
				add("body-both-names", base, "{"+quoteJSON(name)+":"+scalarJSON(fd)+","+quoteJSON(string(fd.Name()))+":"+scalarJSON(fd)+"}")
			}
		}
		add("body-null", base, "null")
		add("body-number", base, "1")
		add("body-whitespace", base, " \n\t ")
	}
	if body == "*" {
		return cases
	}
	for i := 0; i < md.Input().Fields().Len(); i++ {
		fd := md.Input().Fields().Get(i)
		if fd.IsMap() || fd.Message() != nil || string(fd.Name()) == body || slices.Contains(t.fields(), string(fd.Name())) {
			continue
		}
		for _, v := range queryEdges(fd) {
			add("query-value", base+"?"+string(fd.Name())+"="+v, okBody)
		}
	}
	return cases
}

func quoteJSON(s string) string {
	data, _ := json.Marshal(s)
	return string(data)
}

// scalarJSON is a valid JSON value of fd.
func scalarJSON(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return "true"
	case protoreflect.StringKind:
		return `"s"`
	case protoreflect.BytesKind:
		return `"aGk="`
	case protoreflect.EnumKind:
		return quoteJSON(string(fd.Enum().Values().Get(fd.Enum().Values().Len() - 1).Name()))
	default:
		return "7"
	}
}

func jsonEdges(fd protoreflect.FieldDescriptor) []string {
	common := []string{"null", "{}", "[]"}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return append(common, `"true"`, "1", "false")
	case protoreflect.StringKind:
		return append(common, "1", `"\u00e9\ud83d\ude00"`, `"\ud800"`, `""`)
	case protoreflect.BytesKind:
		return append(common, `"aGk"`, `"aGk-_w"`, `"aGk+/w=="`, `"!!"`, `""`, `"a GK="`)
	case protoreflect.EnumKind:
		return append(common, "1", "99", "-1", `"NOPE"`, `"1"`, "1.0")
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return append(common, `"NaN"`, `"Infinity"`, `"-Infinity"`, "1e400", `"1e400"`, `"1.5"`, "-0", "1e-400", `"0x1p-2"`, "3.4028236e38")
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return append(common, "-1", `"-1"`, "1.0", "1e2", `"1e2"`, "18446744073709551616", `"18446744073709551615"`, "4294967296", `" 1"`, `"+1"`)
	default:
		return append(common, "1.0", "1.5", "1e2", `"1e2"`, `"1.0"`, "2147483648", "-2147483649", `"9223372036854775808"`, `"-9223372036854775808"`, `" 1"`, `"+1"`, `"0x10"`, "-0")
	}
}

func queryEdges(fd protoreflect.FieldDescriptor) []string {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return []string{"t", "F", "TRUE", "yes", "1", "", "%20true"}
	case protoreflect.StringKind:
		return []string{"", "a+b", "a%2Bb", "%00", "%C3%A9", "%ED%A0%80"}
	case protoreflect.BytesKind:
		return []string{"aGk", "aGk-_w", "aGk%2B%2Fw%3D%3D", "!!", "", "aGk%3D%0A"}
	case protoreflect.EnumKind:
		return []string{"1", "99", "-1", "+1", "01", ""}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return []string{"NaN", "nan", "inf", "-Infinity", "1e400", "0x1p-2", "1_0", "%2B1.5", "-0", ".5", "5.", "1e-400", "3.4028236e38", ""}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return []string{"-1", "%2B1", "0x10", "1e2", "4294967296", "18446744073709551616", "01", ""}
	default:
		return []string{"%2B5", "-0", "0x10", "1e2", "1.0", "2147483648", "9223372036854775808", "1_000", "%205", "01", ""}
	}
}

// setValues gives every google.protobuf.Value in m that has no kind (the
// oracle's filled leaves them empty) the null kind: a Value without one has
// no JSON, and the Go marshaler refuses it.
func setValues(m protoreflect.Message) {
	if m.Descriptor().FullName() == "google.protobuf.Value" {
		if kind := m.Descriptor().Oneofs().ByName("kind"); m.WhichOneof(kind) == nil {
			m.Set(kind.Fields().ByName("null_value"), protoreflect.ValueOfEnum(0))
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, e protoreflect.Value) bool {
					setValues(e.Message())
					return true
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				for i := 0; i < v.List().Len(); i++ {
					setValues(v.List().Get(i).Message())
				}
			}
		case fd.Message() != nil:
			setValues(v.Message())
		}
		return true
	})
}

// goClientAgainstRust calls every unary method of the service that has a
// rule through the Go project's generated HTTP client pointed at the Rust
// server, with every field set (the path's to values that fit its
// template): the Rust service must receive the request the client was
// given, and the client must return the response the Rust service sent.
// It returns how many methods it called and how many agreed.
func goClientAgainstRust(t *testing.T, rust rustServer, service protoreflect.FullName) (int, int) {
	t.Helper()
	client := conformanceClient(t, "http://"+rust.addr, service)
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(service)
	if err != nil {
		t.Fatal(err)
	}
	sd := d.(protoreflect.ServiceDescriptor)
	responses := map[string]proto.Message{}
	for i := 0; i < sd.Methods().Len(); i++ {
		md := sd.Methods().Get(i)
		msg := filled(md.Output(), 0)
		setValues(msg.ProtoReflect())
		responses[string(md.FullName())] = msg
	}
	rust.respond(t, responses)
	calls, agree := 0, 0
	for i := 0; i < sd.Methods().Len(); i++ {
		md := sd.Methods().Get(i)
		rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
		if md.IsStreamingClient() || md.IsStreamingServer() || rule == nil {
			continue
		}
		method := reflect.ValueOf(client).MethodByName(string(md.Name()))
		if !method.IsValid() {
			t.Errorf("the Go client has no method %s", md.Name())
			continue
		}
		req := filled(md.Input(), 0)
		setValues(req.ProtoReflect())
		_, path := ruleMethod(rule)
		if !fitPath(req.ProtoReflect(), parseTemplate(path)) {
			continue
		}
		calls++
		out := method.Call([]reflect.Value{reflect.ValueOf(t.Context()), reflect.ValueOf(req)})
		if err, _ := out[1].Interface().(error); err != nil {
			t.Errorf("Go client %s against the Rust server: %v", md.Name(), err)
			rust.received(t)
			continue
		}
		got := rust.received(t)
		if len(got) != 1 || !proto.Equal(got[0], req) {
			t.Errorf("Go client %s: the Rust service received %v, want %v", md.Name(), got, req)
			continue
		}
		want := proto.Clone(responses[string(md.FullName())])
		if field := rule.GetResponseBody(); field != "" {
			// Only that field travels.
			w := want.ProtoReflect()
			w.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
				if string(fd.Name()) != field {
					w.Clear(fd)
				}
				return true
			})
		}
		resp := out[0].Interface().(proto.Message)
		if !proto.Equal(resp, want) {
			t.Errorf("Go client %s: got %v from the Rust server, want %v", md.Name(), resp, want)
			continue
		}
		agree++
	}
	return calls, agree
}

// rustClient is the Rust project's generated HTTP client, driven through
// examples/httpclient.rs (RUST_CLIENT, written by tests/rust_conformance.rs):
// a line "<base URL> <method> <hex request>" in, "OK <hex response>" or
// "ERR <CODE> <JSON message>" out.
type rustClient struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startRustClient(t *testing.T) *rustClient {
	t.Helper()
	path := os.Getenv("RUST_CLIENT")
	if path == "" {
		t.Fatal("RUST_CLIENT is not set")
	}
	cmd := exec.Command(path)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scanner := bufio.NewScanner(out)
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	return &rustClient{cmd: cmd, in: in, out: scanner}
}

func (c *rustClient) close(t *testing.T) {
	t.Helper()
	c.in.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("the Rust client: %v", err)
	}
}

// call calls md at baseURL with req: the response, or the error as the Go
// client's *service.RemoteError prints it ("remote CODE: message").
func (c *rustClient) call(t *testing.T, baseURL string, md protoreflect.MethodDescriptor, req proto.Message) (proto.Message, string) {
	t.Helper()
	data, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(c.in, "%s %s %s\n", baseURL, md.FullName(), hex.EncodeToString(data)); err != nil {
		t.Fatal(err)
	}
	if !c.out.Scan() {
		t.Fatalf("the Rust client ended: %v", c.out.Err())
	}
	line := c.out.Text()
	if rest, ok := strings.CutPrefix(line, "OK "); ok {
		raw, err := hex.DecodeString(rest)
		if err != nil {
			t.Fatal(err)
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
		if err != nil {
			t.Fatal(err)
		}
		msg := mt.New().Interface()
		if err := proto.Unmarshal(raw, msg); err != nil {
			t.Fatal(err)
		}
		return msg, ""
	}
	rest, ok := strings.CutPrefix(line, "ERR ")
	code, quoted, _ := strings.Cut(rest, " ")
	var message string
	if !ok || json.Unmarshal([]byte(quoted), &message) != nil {
		t.Fatalf("the Rust client answered %q", line)
	}
	return nil, "remote " + code + ": " + message
}

// clientTarget is a server the Rust client calls, with its fake's controls.
type clientTarget struct {
	baseURL  string
	respond  func(map[protoreflect.FullName]proto.Message)
	received func() []proto.Message
}

// rustClientAgainst has the Rust HTTP client call every unary method of
// service at target, every field set: the service must receive the request
// as the client was given it, and the client must return the response as
// the service sent it. Then errors, each compared with the Go client's
// against the same server: a base path no route serves (the server's 404,
// naming the path each client built) and, for a method with path
// variables, a request whose first path field is empty (refused by both
// before sending). It returns the methods called, the comparisons made and
// those that agreed.
func rustClientAgainst(t *testing.T, rc *rustClient, target clientTarget, service protoreflect.FullName) (int, int, int) {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(service)
	if err != nil {
		t.Fatal(err)
	}
	sd := d.(protoreflect.ServiceDescriptor)
	responses := map[protoreflect.FullName]proto.Message{}
	for i := 0; i < sd.Methods().Len(); i++ {
		md := sd.Methods().Get(i)
		msg := filled(md.Output(), 0)
		setValues(msg.ProtoReflect())
		responses[md.FullName()] = msg
	}
	target.respond(responses)
	target.received() // what earlier callers left
	goMissing := conformanceClient(t, target.baseURL+"/__nope", service)
	methods, calls, agree := 0, 0, 0
	for i := 0; i < sd.Methods().Len(); i++ {
		md := sd.Methods().Get(i)
		if md.IsStreamingClient() || md.IsStreamingServer() {
			continue
		}
		rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
		path := "/" + string(sd.FullName()) + "/" + string(md.Name())
		if rule != nil {
			_, path = ruleMethod(rule)
		}
		tpl := parseTemplate(path)
		req := filled(md.Input(), 0)
		setValues(req.ProtoReflect())
		if !fitPath(req.ProtoReflect(), tpl) {
			continue
		}
		methods++
		calls++
		resp, errText := rc.call(t, target.baseURL, md, req)
		got := target.received()
		want := proto.Clone(responses[md.FullName()])
		if field := rule.GetResponseBody(); field != "" {
			w := want.ProtoReflect()
			w.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
				if string(fd.Name()) != field {
					w.Clear(fd)
				}
				return true
			})
		}
		switch {
		case errText != "":
			t.Errorf("Rust client %s against %s: %s", md.FullName(), target.baseURL, errText)
		case len(got) != 1 || !proto.Equal(got[0], req):
			t.Errorf("Rust client %s against %s: the service received %v, want %v", md.FullName(), target.baseURL, got, req)
		case !proto.Equal(resp, want):
			t.Errorf("Rust client %s against %s: got %v, want %v", md.FullName(), target.baseURL, resp, want)
		default:
			agree++
		}
		// Errors, as the Go client sees them.
		method := reflect.ValueOf(goMissing).MethodByName(string(md.Name()))
		if !method.IsValid() {
			t.Errorf("the Go client has no method %s", md.Name())
			continue
		}
		goError := func(m reflect.Value, req proto.Message) string {
			out := m.Call([]reflect.Value{reflect.ValueOf(t.Context()), reflect.ValueOf(req)})
			if err, _ := out[1].Interface().(error); err != nil {
				return err.Error()
			}
			return ""
		}
		calls++
		_, rustErr := rc.call(t, target.baseURL+"/__nope", md, req)
		goErr := goError(method, req)
		if rustErr != goErr || !strings.Contains(rustErr, "NOT_FOUND") || len(target.received()) != 0 {
			t.Errorf("%s at an unserved base path: the Rust client says %q, the Go client %q", md.FullName(), rustErr, goErr)
		} else {
			agree++
		}
		fields := tpl.fields()
		if len(fields) == 0 {
			continue
		}
		empty := proto.Clone(req)
		clearPath(empty.ProtoReflect(), fields[0])
		calls++
		_, rustErr = rc.call(t, target.baseURL, md, empty)
		goClient := conformanceClient(t, target.baseURL, service)
		goErr = goError(reflect.ValueOf(goClient).MethodByName(string(md.Name())), empty)
		if rustErr != goErr || !strings.Contains(rustErr, "INVALID_ARGUMENT") || len(target.received()) != 0 {
			t.Errorf("%s with %s empty: the Rust client says %q, the Go client %q", md.FullName(), fields[0], rustErr, goErr)
		} else {
			agree++
		}
	}
	return methods, calls, agree
}

// clearPath clears the field at a dotted path, if the messages on the way
// are set.
func clearPath(m protoreflect.Message, path string) {
	names := strings.Split(path, ".")
	for i, name := range names {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			return
		}
		if i == len(names)-1 {
			m.Clear(fd)
			return
		}
		if fd.Message() == nil || !m.Has(fd) {
			return
		}
		m = m.Mutable(fd).Message()
	}
}

// fitPath sets the fields the template's variables bind to values that fit
// it (each "*" a number, "**" two segments); false when one is not a string.
func fitPath(m protoreflect.Message, tpl template) bool {
	n := 0
	for _, p := range tpl.parts {
		if p.field == "" {
			continue
		}
		var segs []string
		for _, s := range p.segments {
			switch s {
			case "*":
				n++
				segs = append(segs, fmt.Sprint(n))
			case "**":
				n++
				segs = append(segs, fmt.Sprintf("d%d/e%d", n, n))
			default:
				segs = append(segs, s)
			}
		}
		names := strings.Split(p.field, ".")
		msg := m
		for i, name := range names {
			fd := msg.Descriptor().Fields().ByName(protoreflect.Name(name))
			if fd == nil || fd.IsList() || fd.IsMap() {
				return false
			}
			if i < len(names)-1 {
				if fd.Message() == nil {
					return false
				}
				msg = msg.Mutable(fd).Message()
				continue
			}
			if fd.Kind() != protoreflect.StringKind {
				return false
			}
			msg.Set(fd, protoreflect.ValueOfString(strings.Join(segs, "/")))
		}
	}
	return true
}
