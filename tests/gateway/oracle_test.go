package transport

// The differential test against grpc-gateway v2, copied into a generated
// project by tests/gateway.rs together with protoc-gen-grpc-gateway's output
// for the same protos and a small glue file (oracleSetup). Every request is
// sent to kitgen's HTTP handler and to grpc-gateway's mux in front of the
// same recording fakes behind kitgen's gRPC server; the status, the request
// the service received and the response JSON are compared. A difference is
// either one of the deliberate ones (see deliberate, and the README) or a
// failure.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// oracleService ties a proto service to the fakes behind both servers.
type oracleService struct {
	name    protoreflect.FullName
	kitgen  func() []proto.Message
	gateway func() []proto.Message
	respond func(map[string]proto.Message)
}

type oracleCase struct {
	method, target, body string
	// kind names what the case exercises, for the report.
	kind string
	// verb is the custom verb of the rule, if any.
	verb string
}

type outcome struct {
	status   int
	body     string
	received []proto.Message
}

func TestOracle(t *testing.T) {
	kit, gw, services := oracleSetup(t)
	kit = recordExchanges(t, kit)
	total, agree := 0, 0
	deliberateCounts := map[string]int{}
	var unexplained []string
	for _, svc := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(svc.name)
		if err != nil {
			t.Fatal(err)
		}
		sd := d.(protoreflect.ServiceDescriptor)
		responses := map[string]proto.Message{}
		for i := 0; i < sd.Methods().Len(); i++ {
			md := sd.Methods().Get(i)
			responses[string(md.Name())] = filled(md.Output(), 0)
		}
		svc.respond(responses)
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
				for _, c := range casesFor(md, r) {
					total++
					a := send(kit, c, svc.kitgen)
					b := send(gw, c, svc.gateway)
					diff := compare(a, b)
					if diff == "" {
						agree++
						continue
					}
					if why := deliberate(c, a, b); why != "" {
						deliberateCounts[why]++
						continue
					}
					unexplained = append(unexplained, fmt.Sprintf("%s %s %s [%s] body=%.80q: %s", md.FullName(), c.method, c.target, c.kind, c.body, diff))
				}
			}
		}
	}
	var reasons []string
	deliberateTotal := 0
	for why, n := range deliberateCounts {
		reasons = append(reasons, fmt.Sprintf("%s=%d", why, n))
		deliberateTotal += n
	}
	sort.Strings(reasons)
	// tests/gateway.rs reads this line.
	fmt.Printf("ORACLE requests=%d agree=%d deliberate=%d unexplained=%d reasons=%s\n", total, agree, deliberateTotal, len(unexplained), strings.Join(reasons, ","))
	for i, u := range unexplained {
		if i == 50 {
			t.Errorf("and %d more", len(unexplained)-i)
			break
		}
		t.Errorf("unexplained difference: %s", u)
	}
	if os.Getenv("ORACLE_MIN_REQUESTS") != "" {
		var min int
		fmt.Sscan(os.Getenv("ORACLE_MIN_REQUESTS"), &min)
		if total < min {
			t.Errorf("only %d requests, want at least %d", total, min)
		}
	}
}

// deliberate names the documented reason for a difference, or "".
func deliberate(c oracleCase, kit, gw outcome) string {
	if c.method == "PATCH" && maskInferred(kit, gw) {
		// grpc-gateway's PATCH feature fills an unset update_mask from the
		// body's fields (and so refuses unknown ones); google.api.http has
		// no such rule and kitgen passes the request as it came.
		return "patch-update-mask-inferred"
	}
	if c.verb != "" && slices.ContainsFunc(gw.received, func(m proto.Message) bool {
		return strings.Contains(prototext.Format(m), ":"+c.verb+`"`)
	}) {
		// grpc-gateway tries the routes registered last first, so
		// /v1/{name=projects/*/schemas/*} takes …/schemas/2:deleteRevision
		// with the verb in the name; kitgen tries custom verbs first.
		return "custom-verb-shadowed-in-grpc-gateway"
	}
	switch {
	case c.kind == "query:malformed" && kit.status == 400:
		// grpc-gateway parses the query only when a field is left for it.
		return "malformed-query-refused"
	case (c.kind == "body:empty" || c.kind == "method:wrong" && c.body == "") && emptyBodyField(kit, gw):
		// grpc-gateway sets the body field to an empty message when there
		// is no body; kitgen leaves it unset, as the client sent it.
		return "empty-body-leaves-field-unset"
	case strings.Contains(strings.ToUpper(c.target), "%2F"):
		// grpc-gateway's default UnescapingModeLegacy matches the decoded
		// path: an escaped slash splits a segment and can change the route.
		return "escaped-slash"
	case strings.HasPrefix(c.kind, "method:") && kit.status == 405 && gw.status == 501:
		// grpc-gateway answers a known path with another method 501
		// UNIMPLEMENTED; kitgen answers 405 with an Allow header.
		return "method-not-allowed-405"
	case c.kind == "path:invalid-utf8" || c.kind == "query:invalid-utf8":
		if kit.status == 400 {
			return "invalid-utf8-refused"
		}
	case c.kind == "body:trailing-data":
		if kit.status == 400 {
			return "trailing-body-refused"
		}
	case c.kind == "body:too-large":
		if kit.status == 413 {
			return "body-over-4MiB"
		}
	case c.kind == "path:empty-segment":
		if kit.status == 404 && len(kit.received) == 0 {
			// grpc-gateway lets "*" match an empty segment:
			// /v1/shelves/1/books/ is GetBook with an empty ID.
			return "empty-segment-matches-no-wildcard"
		}
		if c.verb != "" && kit.status == 405 && gw.status == 404 && len(kit.received) == 0 {
			// POST /v1/shelves/:merge: an empty stem before the verb. The
			// verb's route does not match in either; grpc-gateway stops at
			// 404, kitgen goes on to the other routes as for any path, and
			// GET takes it (GetShelf "shelves/:merge"), so POST is 405.
			return "empty-verb-stem-405"
		}
	case c.kind == "path:dot-segment" || c.kind == "path:dot" || c.kind == "path:escaped-dot-segment":
		if kit.status == 400 && len(kit.received) == 0 {
			// grpc-gateway takes "..", "." and "%2E%2E" as data; URL
			// libraries and proxies resolve them, so kitgen refuses them.
			return "dot-segment-refused"
		}
	case c.kind == "method:head":
		if kit.status == 200 && (gw.status == 501 || gw.status == 405) {
			// kitgen serves HEAD from the GET route, as net/http does.
			return "head-served-by-get"
		}
	case c.kind == "method:options":
		if kit.status == 204 && (gw.status == 501 || gw.status == 405) {
			// kitgen answers OPTIONS with the route's Allow header.
			return "options-answered-with-allow"
		}
	}
	return ""
}

// maskInferred reports whether kit and gw differ only in an update_mask
// that grpc-gateway filled in, or in gw refusing a body field for it.
func maskInferred(kit, gw outcome) bool {
	if kit.status == 200 && gw.status == 400 && strings.Contains(gw.body, "could not find field") {
		return true
	}
	if kit.status != gw.status || len(kit.received) != 1 || len(gw.received) != 1 {
		return false
	}
	a, b := kit.received[0].ProtoReflect(), proto.Clone(gw.received[0]).ProtoReflect()
	fd := b.Descriptor().Fields().ByName("update_mask")
	if fd == nil || a.Has(fd) {
		return false
	}
	b.Clear(fd)
	return proto.Equal(a.Interface(), b.Interface())
}

// emptyBodyField reports whether gw's request differs from kit's only in a
// message field set to an empty message.
func emptyBodyField(kit, gw outcome) bool {
	if kit.status != gw.status || len(kit.received) != 1 || len(gw.received) != 1 {
		return false
	}
	a, b := kit.received[0].ProtoReflect(), proto.Clone(gw.received[0]).ProtoReflect()
	var cleared bool
	b.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && !a.Has(fd) && proto.Size(v.Message().Interface()) == 0 {
			b.Clear(fd)
			cleared = true
		}
		return true
	})
	return cleared && proto.Equal(a.Interface(), b.Interface())
}

func send(h http.Handler, c oracleCase, received func() []proto.Message) outcome {
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
	return outcome{status: rec.Code, body: rec.Body.String(), received: received()[before:]}
}

func compare(a, b outcome) string {
	if a.status != b.status {
		return fmt.Sprintf("status kitgen %d, grpc-gateway %d (kitgen %.200s | grpc-gateway %.200s)", a.status, b.status, a.body, b.body)
	}
	if len(a.received) != len(b.received) {
		return fmt.Sprintf("the service received %d requests via kitgen, %d via grpc-gateway", len(a.received), len(b.received))
	}
	for i := range a.received {
		if !proto.Equal(a.received[i], b.received[i]) {
			return fmt.Sprintf("the service received %v via kitgen, %v via grpc-gateway", a.received[i], b.received[i])
		}
	}
	if a.status == 200 {
		ja, jb := normalizeJSON(a.body), normalizeJSON(b.body)
		if !reflect.DeepEqual(ja, jb) {
			return fmt.Sprintf("response kitgen %.300s, grpc-gateway %.300s", a.body, b.body)
		}
	}
	return ""
}

// normalizeJSON parses a body (or newline-delimited bodies) and drops null
// members: grpc-gateway writes unset messages as null, kitgen leaves them
// out (a documented difference that carries no information).
func normalizeJSON(s string) []any {
	var out []any
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			if err != io.EOF {
				out = append(out, "invalid JSON: "+s)
			}
			return out
		}
		out = append(out, dropNulls(v))
	}
}

func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
			} else {
				v[k] = dropNulls(e)
			}
		}
	case []any:
		for i := range v {
			v[i] = dropNulls(v[i])
		}
	}
	return v
}

// template is a parsed path template: its parts, each a literal or a
// variable's field with its own segments, and the verb.
type template struct {
	parts []part
	verb  string
}

type part struct {
	literal  string
	field    string
	segments []string
}

func parseTemplate(s string) template {
	var t template
	s = strings.TrimPrefix(s, "/")
	depth, start := 0, 0
	var raw []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '/':
			if depth == 0 {
				raw = append(raw, s[start:i])
				start = i + 1
			}
		}
	}
	last := s[start:]
	if i := strings.LastIndex(last, ":"); i >= 0 && !strings.Contains(last[i:], "}") {
		last, t.verb = last[:i], last[i+1:]
	}
	raw = append(raw, last)
	for _, r := range raw {
		if strings.HasPrefix(r, "{") {
			inner := strings.TrimSuffix(strings.TrimPrefix(r, "{"), "}")
			field, pattern, ok := strings.Cut(inner, "=")
			if !ok {
				pattern = "*"
			}
			t.parts = append(t.parts, part{field: field, segments: strings.Split(pattern, "/")})
		} else {
			t.parts = append(t.parts, part{literal: r})
		}
	}
	return t
}

// expand writes a path, each wildcard replaced by value(n) for the n-th one.
func (t template) expand(value func(n int, deep bool) string) string {
	var segs []string
	n := 0
	for _, p := range t.parts {
		if p.field == "" {
			if p.literal == "*" || p.literal == "**" {
				n++
				segs = append(segs, value(n, p.literal == "**"))
			} else {
				segs = append(segs, p.literal)
			}
			continue
		}
		for _, s := range p.segments {
			if s == "*" || s == "**" {
				n++
				segs = append(segs, value(n, s == "**"))
			} else {
				segs = append(segs, s)
			}
		}
	}
	out := "/" + strings.Join(segs, "/")
	if t.verb != "" {
		out += ":" + t.verb
	}
	return out
}

func (t template) fields() []string {
	var out []string
	for _, p := range t.parts {
		if p.field != "" {
			out = append(out, p.field)
		}
	}
	return out
}

// oraclePathValues fill every variable, numbered apart unless exact.
var oraclePathValues = []struct {
	kind, value string
	exact       bool
}{
	{"path:plain", "v", false},
	{"path:escaped-slash", "a%2Fb", false},
	{"path:space", "a%20b", false},
	{"path:percent", "100%25", false},
	{"path:unicode", "%C3%A9t%C3%A9", false},
	{"path:reserved", "a%3Ab%40c", false},
	{"path:unreserved", "x~y.z-_", false},
	{"path:plus", "a+b", false},
	{"path:invalid-utf8", "%FF", false},
	{"path:empty-segment", "", true},
	{"path:dot-segment", "..", true},
	{"path:dot", ".", true},
	{"path:escaped-dot-segment", "%2E%2E", true},
	{"path:dots", "...", true},
}

func casesFor(md protoreflect.MethodDescriptor, rule *annotations.HttpRule) []oracleCase {
	method, path := ruleMethod(rule)
	t := parseTemplate(path)
	base := t.expand(func(n int, deep bool) string {
		if deep {
			return fmt.Sprintf("d%d/e%d", n, n)
		}
		return fmt.Sprintf("%d", n)
	})
	body := rule.GetBody()
	var cases []oracleCase
	add := func(kind, m, target, b string) {
		cases = append(cases, oracleCase{method: m, target: target, body: b, kind: kind, verb: t.verb})
	}
	okBody := ""
	if body != "" {
		okBody = bodyJSON(md.Input(), body, nil)
	}
	for _, pv := range oraclePathValues {
		add(pv.kind, method, t.expand(func(n int, deep bool) string {
			switch {
			case deep:
				return pv.value + "/" + pv.value
			case pv.exact:
				return pv.value
			}
			return pv.value + fmt.Sprint(n)
		}), okBody)
	}
	if len(t.fields()) > 0 {
		// A literal of the template replaced: the path no longer fits.
		add("path:mismatch", method, strings.Replace(base, "/", "/x", 2), okBody)
	}
	// Wrong methods.
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if m != method {
			add("method:wrong", m, base, okBody)
		}
	}
	add("method:head", "HEAD", base, "")
	add("method:options", "OPTIONS", base, "")
	// Query parameters.
	for _, q := range queryParams(md.Input(), "", 0) {
		add("query:"+q.kind, method, base+"?"+q.query, okBody)
	}
	for _, f := range t.fields() {
		add("query:overrides-path", method, base+"?"+f+"=zz", okBody)
	}
	if body != "" && body != "*" {
		add("query:overrides-body", method, base+"?"+body+"=zz", okBody)
		if fd := md.Input().Fields().ByName(protoreflect.Name(body)); fd != nil && fd.Message() != nil {
			for _, q := range queryParams(fd.Message(), body+".", 1) {
				add("query:inside-body", method, base+"?"+q.query, okBody)
			}
		}
	}
	add("query:unknown", method, base+"?no_such_field=1", okBody)
	add("query:invalid-utf8", method, base+"?no_such_field=%FF&"+firstString(md.Input())+"=%FF", okBody)
	add("query:malformed", method, base+"?a=%zz", okBody)
	// Bodies.
	if body != "" {
		add("body:ok", method, base, okBody)
		add("body:unknown-field", method, base, bodyJSON(md.Input(), body, map[string]any{"noSuchField": 1}))
		add("body:empty", method, base, "")
		add("body:empty-object", method, base, "{}")
		add("body:bad-json", method, base, "{")
		add("body:trailing-data", method, base, `{}, "x": 1`)
		add("body:array", method, base, "[1]")
		add("body:large", method, base, bodyJSON(md.Input(), body, map[string]any{"noSuchField": strings.Repeat("x", 1<<20)}))
		add("body:too-large", method, base, bodyJSON(md.Input(), body, map[string]any{"noSuchField": strings.Repeat("x", 5<<20)}))
		if body == "*" {
			// Body fields that the path binds too: the path wins.
			over := map[string]any{}
			for _, f := range t.fields() {
				if !strings.Contains(f, ".") {
					if fd := md.Input().Fields().ByName(protoreflect.Name(f)); fd != nil {
						over[fd.JSONName()] = "zz"
					}
				}
			}
			add("body:overrides-path", method, base, bodyJSON(md.Input(), body, over))
		}
	}
	return cases
}

func ruleMethod(r *annotations.HttpRule) (string, string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return "GET", p.Get
	case *annotations.HttpRule_Put:
		return "PUT", p.Put
	case *annotations.HttpRule_Post:
		return "POST", p.Post
	case *annotations.HttpRule_Delete:
		return "DELETE", p.Delete
	case *annotations.HttpRule_Patch:
		return "PATCH", p.Patch
	case *annotations.HttpRule_Custom:
		return p.Custom.GetKind(), p.Custom.GetPath()
	}
	return "GET", "/"
}

func firstString(md protoreflect.MessageDescriptor) string {
	for i := 0; i < md.Fields().Len(); i++ {
		if fd := md.Fields().Get(i); fd.Kind() == protoreflect.StringKind && !fd.IsList() && !fd.IsMap() {
			return string(fd.Name())
		}
	}
	return "no_such_field"
}

// bodyJSON is the JSON body of a filled message: the input for "*", the
// field's message otherwise, with extra members merged in.
func bodyJSON(input protoreflect.MessageDescriptor, body string, extra map[string]any) string {
	var msg proto.Message
	if body == "*" {
		msg = filled(input, 0)
	} else if fd := input.Fields().ByName(protoreflect.Name(body)); fd != nil && fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		msg = filled(fd.Message(), 0)
	} else {
		return `"x"`
	}
	data, err := protojson.Marshal(msg)
	if err != nil {
		panic(err)
	}
	if len(extra) == 0 {
		return string(data)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return string(data)
	}
	for k, v := range extra {
		m[k] = v
	}
	out, _ := json.Marshal(m)
	return string(out)
}

type queryParam struct{ kind, query string }

// queryParams returns a query parameter per field of md, of every kind.
func queryParams(md protoreflect.MessageDescriptor, prefix string, depth int) []queryParam {
	var out []queryParam
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		name := prefix + string(fd.Name())
		json := prefix + fd.JSONName()
		switch {
		case fd.IsMap():
			if fd.MapKey().Kind() == protoreflect.StringKind && fd.MapValue().Kind() == protoreflect.StringKind {
				out = append(out, queryParam{"map", name + "%5Bk%5D=v"})
			}
		case fd.Message() != nil && wkt(fd.Message().FullName()) != "":
			v := wkt(fd.Message().FullName())
			out = append(out, queryParam{"wkt", name + "=" + v})
			if fd.IsList() {
				out = append(out, queryParam{"repeated-wkt", name + "=" + v + "&" + name + "=" + v})
			}
		case fd.Message() != nil:
			if depth < 1 && !fd.IsList() {
				out = append(out, queryParams(fd.Message(), name+".", depth+1)...)
			}
		case fd.IsList():
			v := scalar(fd)
			out = append(out, queryParam{"repeated", name + "=" + v + "&" + name + "=" + v})
		default:
			out = append(out, queryParam{"scalar", name + "=" + scalar(fd)})
			if json != name {
				out = append(out, queryParam{"json-name", json + "=" + scalar(fd)})
				out = append(out, queryParam{"both-names", name + "=" + scalar(fd) + "&" + json + "=" + scalar(fd)})
			}
			if fd.Kind() == protoreflect.EnumKind {
				out = append(out, queryParam{"enum-number", name + "=1"}, queryParam{"enum-bad", name + "=NOPE"})
			}
			if fd.Kind() != protoreflect.StringKind && fd.Kind() != protoreflect.BytesKind {
				out = append(out, queryParam{"bad-value", name + "=not%20a%20value"})
			}
			out = append(out, queryParam{"singular-twice", name + "=" + scalar(fd) + "&" + name + "=" + scalar(fd)})
		}
	}
	return out
}

func wkt(name protoreflect.FullName) string {
	switch name {
	case "google.protobuf.Timestamp":
		return "2024-01-02T03:04:05.5Z"
	case "google.protobuf.Duration":
		return "1.5s"
	case "google.protobuf.FieldMask":
		return "name,display_name"
	case "google.protobuf.StringValue":
		return "w"
	case "google.protobuf.BoolValue":
		return "true"
	case "google.protobuf.Int32Value", "google.protobuf.Int64Value", "google.protobuf.UInt32Value", "google.protobuf.UInt64Value":
		return "7"
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue":
		return "1.5"
	}
	return ""
}

func scalar(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return "true"
	case protoreflect.StringKind:
		return "s%20t%C3%A9"
	case protoreflect.BytesKind:
		return "aGk%3D"
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		return string(values.Get(values.Len() - 1).Name())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "2.5"
	default:
		return "42"
	}
}

// filled returns a message of md with every field set, to depth 2.
func filled(md protoreflect.MessageDescriptor, depth int) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		panic(err)
	}
	msg := mt.New()
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		return timestamppb.New(timestamppb.Now().AsTime().Truncate(1e9).UTC())
	case "google.protobuf.Duration":
		return durationpb.New(1500e6)
	case "google.protobuf.FieldMask":
		return &fieldmaskpb.FieldMask{Paths: []string{"name"}}
	case "google.protobuf.Any", "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue":
		return msg.Interface()
	}
	if depth > 2 {
		return msg.Interface()
	}
	seen := map[protoreflect.OneofDescriptor]bool{}
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		if of := fd.ContainingOneof(); of != nil && !of.IsSynthetic() {
			if seen[of] {
				continue
			}
			seen[of] = true
		}
		switch {
		case fd.IsMap():
			if k, ok := value(fd.MapKey(), depth); ok {
				if v, ok := value(fd.MapValue(), depth); ok {
					msg.Mutable(fd).Map().Set(k.MapKey(), v)
				}
			}
		case fd.IsList():
			if v, ok := value(fd, depth); ok {
				msg.Mutable(fd).List().Append(v)
			}
		default:
			if v, ok := value(fd, depth); ok {
				msg.Set(fd, v)
			}
		}
	}
	return msg.Interface()
}

func value(fd protoreflect.FieldDescriptor, depth int) (protoreflect.Value, bool) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(7), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(1 << 40), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(7), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(1 << 40), true
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(1.5), true
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(2.25), true
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("s-" + string(fd.Name()) + " é/"), true
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{0, 1, 0xff}), true
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		return protoreflect.ValueOfEnum(values.Get(values.Len() - 1).Number()), true
	default:
		if depth >= 2 {
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfMessage(filled(fd.Message(), depth+1).ProtoReflect()), true
	}
}
