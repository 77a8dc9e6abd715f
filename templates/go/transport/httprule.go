package transport

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"{{ p.module }}/pkg/service"
)

// maxBodyBytes bounds the request bodies the server reads, unless
// MaxRequestBytes says otherwise, and the response bodies the client reads.
const maxBodyBytes = 4 << 20

// marshaler writes zero scalars too, so {"v":"0"} is not an empty object.
// Unlike EmitUnpopulated it leaves unset messages out instead of writing
// null, which would come back as a set google.protobuf.Value.
var marshaler = protojson.MarshalOptions{EmitDefaultValues: true}

// HTTPOption configures NewHTTPHandler.
type HTTPOption func(*httpConfig)

type httpConfig struct {
	strict  bool
	maxBody int64
	refused func(ctx context.Context, err error)
}

// HTTPErrorHandler has refused called with each request the handler
// answers before any endpoint sees it: a path no route matches (404), a
// method the route does not allow (405), a request that does not decode
// (400, 413). endpoints.Instrumentation.TransportError logs and counts them.
func HTTPErrorHandler(refused func(ctx context.Context, err error)) HTTPOption {
	return func(c *httpConfig) { c.refused = refused }
}

// refuse answers err to a request no endpoint saw, telling the handler.
func (c *httpConfig) refuse(ctx context.Context, err error, w http.ResponseWriter) {
	if c.refused != nil {
		c.refused(ctx, err)
	}
	encodeHTTPError(ctx, err, w)
}

// MaxRequestBytes bounds the request bodies the server reads to n bytes
// (4 MiB without it, or with n <= 0); a larger body answers 413.
func MaxRequestBytes(n int64) HTTPOption {
	return func(c *httpConfig) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// RejectUnknownFields makes the server answer 400 to a JSON body field or a
// query parameter the request message does not have. By default they are
// ignored, as grpc-gateway does, so an older server accepts a newer client's
// requests during a rolling deploy.
func RejectUnknownFields() HTTPOption {
	return func(c *httpConfig) { c.strict = true }
}

// pathPattern is a parsed google.api.http path template: its segments
// (literals, "*" or "**"), its custom verb, and the segments each variable
// binds.
type pathPattern struct {
	template string
	segments []string
	verb     string
	vars     []pathVar
}

// pathVar binds the field at a dotted path to segments[start:end].
type pathVar struct {
	field      string
	start, end int
}

// multiSegment reports whether v spans several segments (or "**"): its
// value keeps "/" and, as http.proto says, "%2F" stays escaped in it.
func (p pathPattern) multiSegment(v pathVar) bool {
	return v.end-v.start > 1 || p.segments[v.start] == "**"
}

// match matches the escaped path components of a request against p, and
// returns the value of each variable, unescaped per segment, so an escaped
// "/" never changes which route a request takes.
func (p pathPattern) match(components []string) ([]string, bool) {
	if p.verb != "" {
		last := components[len(components)-1]
		stem, ok := strings.CutSuffix(last, ":"+p.verb)
		if !ok || stem == "" {
			return nil, false
		}
		components = append(components[:len(components)-1:len(components)-1], stem)
	}
	// spans[i] is the range of components segment i matches.
	spans := make([][2]int, len(p.segments))
	deep := slices.Index(p.segments, "**")
	switch {
	case deep < 0 && len(components) != len(p.segments):
		return nil, false
	case deep >= 0 && len(components) < len(p.segments)-1:
		return nil, false
	}
	pos := 0
	for i, segment := range p.segments {
		n := 1
		if i == deep {
			n = len(components) - (len(p.segments) - 1)
		}
		spans[i] = [2]int{pos, pos + n}
		if segment == "*" && components[pos] == "" {
			// A resource ID is never empty: "/v1/shelves/1/books/" is
			// no GetBook.
			return nil, false
		}
		if segment != "*" && segment != "**" {
			if unescaped, err := url.PathUnescape(components[pos]); err != nil || unescaped != segment {
				return nil, false
			}
		}
		pos += n
	}
	values := make([]string, len(p.vars))
	for i, v := range p.vars {
		raw := components[spans[v.start][0]:spans[v.end-1][1]]
		if !p.multiSegment(v) {
			value, err := url.PathUnescape(raw[0])
			if err != nil {
				return nil, false
			}
			values[i] = value
			continue
		}
		parts := make([]string, len(raw))
		for j, component := range raw {
			part, err := unescapeKeepingSlash(component)
			if err != nil {
				return nil, false
			}
			parts[j] = part
		}
		values[i] = strings.Join(parts, "/")
	}
	return values, true
}

// unescapeKeepingSlash unescapes s except for "%2F", which stays as it is.
func unescapeKeepingSlash(s string) (string, error) {
	parts := strings.Split(strings.ReplaceAll(s, "%2f", "%2F"), "%2F")
	for i, part := range parts {
		unescaped, err := url.PathUnescape(part)
		if err != nil {
			return "", err
		}
		parts[i] = unescaped
	}
	return strings.Join(parts, "%2F"), nil
}

// expand fills p from the fields of m and returns the escaped path and the
// fields it used. A value must come back out of the path as it went in, so
// the check is the server's own match: a name such as "shelves/1/books/2"
// cannot be sent where "shelves/*" is expected, and never reaches another
// method's route. Segments "." and ".." are refused, as the server does:
// URL libraries and proxies resolve them, so the path would name another
// resource on the way.
func (p pathPattern) expand(m protoreflect.Message) (string, []string, error) {
	for i, segment := range p.segments {
		if (segment == "*" || segment == "**") && !p.inVar(i) {
			return "", nil, &service.RemoteError{Code: service.CodeUnimplemented, Message: fmt.Sprintf("path template %s has a wildcard outside any variable, which a client cannot fill", p.template)}
		}
	}
	parts := slices.Clone(p.segments)
	for i := range parts {
		parts[i] = escapeSegment(parts[i])
	}
	var bound, values []string
	for _, v := range p.vars {
		value, err := fieldString(m, v.field)
		if err != nil {
			return "", nil, err
		}
		if value == "" {
			return "", nil, refused("field %q is part of the URL and must be set", v.field)
		}
		if !utf8.ValidString(value) {
			return "", nil, refused("field %q is not valid UTF-8", v.field)
		}
		got := []string{value}
		if p.multiSegment(v) {
			got = strings.Split(value, "/")
		}
		for j := range got {
			if dotSegment(got[j]) {
				return "", nil, refused("field %q is %q, whose %q segment a URL cannot carry", v.field, value, got[j])
			}
			got[j] = escapeSegment(got[j])
		}
		parts[v.start] = strings.Join(got, "/")
		for j := v.start + 1; j < v.end; j++ {
			parts[j] = ""
		}
		bound = append(bound, v.field)
		values = append(values, value)
	}
	var path strings.Builder
	for i, part := range parts {
		if i > 0 && !p.inVarTail(i) {
			path.WriteByte('/')
		}
		path.WriteString(part)
	}
	out := "/" + path.String()
	if p.verb != "" {
		out += ":" + p.verb
	}
	matched, ok := p.match(strings.Split(out[1:], "/"))
	for i := range values {
		if !ok || matched[i] != values[i] {
			want := p.segments[p.vars[i].start:p.vars[i].end]
			return "", nil, refused("field %q is %q, which does not fit %s in %s", p.vars[i].field, values[i], strings.Join(want, "/"), p.template)
		}
	}
	return out, bound, nil
}

// refused is the error of a request the HTTP client will not send.
func refused(format string, args ...any) error {
	return &service.RemoteError{Code: service.CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

// dotSegment reports whether an unescaped path segment is "." or "..",
// which RFC 3986 clients and proxies remove or resolve.
func dotSegment(segment string) bool {
	return segment == "." || segment == ".."
}

// inVarTail reports whether segment i belongs to a variable that does not
// start at i: its text was written with the variable's first segment.
func (p pathPattern) inVarTail(i int) bool {
	for _, v := range p.vars {
		if i > v.start && i < v.end {
			return true
		}
	}
	return false
}

// inVar reports whether segment i lies in a variable.
func (p pathPattern) inVar(i int) bool {
	return slices.ContainsFunc(p.vars, func(v pathVar) bool { return i >= v.start && i < v.end })
}

// escapeSegment percent-encodes every byte of s but the unreserved ones
// ([-_.~0-9a-zA-Z]), as http.proto asks of clients.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// httpRoute is one google.api.http binding served by the router.
type httpRoute struct {
	method  string
	pattern pathPattern
	handler http.Handler
}

// router dispatches requests on the escaped path, as google.api.http
// specifies: the first route whose method and pattern match serves it.
type router struct {
	routes []httpRoute
	config *httpConfig
}

type pathValuesKey struct{}

// handle adds a route; decode finds the path values through the context.
func (rt *router) handle(method string, pattern pathPattern, handler http.Handler) {
	rt.routes = append(rt.routes, httpRoute{method: method, pattern: pattern, handler: handler})
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		rt.config.refuse(r.Context(), service.Errorf(service.CodeInvalidArgument, "the request path must start with /"), w)
		return
	}
	if n := len(r.Header.Values("Authorization")); n > 1 {
		// One field by RFC 9110: a proxy that checks the last one and a
		// service that reads the first would disagree on who is calling.
		rt.config.refuse(r.Context(), service.Errorf(service.CodeInvalidArgument, "the request has %d Authorization headers", n), w)
		return
	}
	components := strings.Split(path[1:], "/")
	for i, component := range components {
		if i == len(components)-1 {
			// "..:verb" would bind ".." to the verb's route.
			component, _, _ = strings.Cut(component, ":")
		}
		// "%2e%2E" too: a proxy that decodes unreserved characters would
		// resolve it, and route the request elsewhere than this router.
		if unescaped, err := url.PathUnescape(component); err == nil && dotSegment(unescaped) {
			rt.config.refuse(r.Context(), service.Errorf(service.CodeInvalidArgument, "the request path has a %q segment", unescaped), w)
			return
		}
	}
	var allowed []string
	var head *httpRoute
	var headValues []string
	serve := func(route *httpRoute, values []string) {
		ctx := context.WithValue(r.Context(), pathValuesKey{}, pathValues{pattern: &route.pattern, values: values})
		route.handler.ServeHTTP(w, r.WithContext(ctx))
	}
	for i := range rt.routes {
		route := &rt.routes[i]
		values, ok := route.pattern.match(components)
		if !ok {
			continue
		}
		if route.method != r.Method {
			// HEAD is served by GET routes, as net/http does (the server
			// sends no body), unless a route of its own takes it.
			if r.Method == http.MethodHead && route.method == http.MethodGet {
				if head == nil {
					head, headValues = route, values
				}
				continue
			}
			if !slices.Contains(allowed, route.method) {
				allowed = append(allowed, route.method)
			}
			continue
		}
		serve(route, values)
		return
	}
	if head != nil {
		serve(head, headValues)
		return
	}
	if len(allowed) > 0 {
		if slices.Contains(allowed, http.MethodGet) {
			allowed = append(allowed, http.MethodHead)
		}
		allowed = append(allowed, http.MethodOptions)
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		rt.config.refuse(r.Context(), &httpStatusError{
			status: http.StatusMethodNotAllowed,
			err:    service.Errorf(service.CodeUnimplemented, "%s is not allowed on %s; allowed: %s", bounded(r.Method), bounded(path), strings.Join(allowed, ", ")),
		}, w)
		return
	}
	// A path that fits no template, a malformed resource name included,
	// answers 404 as grpc-gateway does: the message says no route matched.
	rt.config.refuse(r.Context(), service.Errorf(service.CodeNotFound, "no route matches %s %s", bounded(r.Method), bounded(path)), w)
}

// bounded returns at most 256 bytes of a request's method or escaped path,
// for a message.
func bounded(s string) string {
	const limit = 256
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}

// pathValues are the variables a route matched, in the pattern's order.
type pathValues struct {
	pattern *pathPattern
	values  []string
}

// decodeHTTPRequest reads a request message from r, as google.api.http
// defines it: the body (the whole message for "*", one field otherwise),
// then the path variables, then the query parameters, which set only the
// fields neither the path nor the body binds.
func decodeHTTPRequest(config *httpConfig, newRequest func() proto.Message, body string) httptransport.DecodeRequestFunc {
	decode := decodeHTTPMessage(config, newRequest, body)
	return func(ctx context.Context, r *http.Request) (any, error) {
		msg, err := decode(ctx, r)
		if err != nil && config.refused != nil {
			config.refused(ctx, err)
		}
		return msg, err
	}
}

func decodeHTTPMessage(config *httpConfig, newRequest func() proto.Message, body string) httptransport.DecodeRequestFunc {
	unmarshal := protojson.UnmarshalOptions{DiscardUnknown: !config.strict}
	return func(ctx context.Context, r *http.Request) (any, error) {
		msg := newRequest()
		if body != "" {
			data, err := io.ReadAll(io.LimitReader(r.Body, config.maxBody+1))
			var tooLarge *http.MaxBytesError
			if int64(len(data)) > config.maxBody || errors.As(err, &tooLarge) {
				return nil, &httpStatusError{
					status: http.StatusRequestEntityTooLarge,
					err:    service.Errorf(service.CodeResourceExhausted, "the request body exceeds %d bytes", config.maxBody),
				}
			}
			if err != nil {
				return nil, service.Errorf(service.CodeInvalidArgument, "reading the request body: %w", err)
			}
			if len(bytes.TrimSpace(data)) > 0 {
				if err := unmarshalBody(unmarshal, data, msg, body); err != nil {
					return nil, service.Errorf(service.CodeInvalidArgument, "invalid JSON body: %w", err)
				}
			}
		}
		bound := []string{}
		if body != "" && body != "*" {
			bound = append(bound, body)
		}
		if pv, ok := ctx.Value(pathValuesKey{}).(pathValues); ok {
			for i, v := range pv.pattern.vars {
				if err := setField(msg.ProtoReflect(), v.field, []string{pv.values[i]}, true); err != nil {
					return nil, err
				}
				bound = append(bound, v.field)
			}
		}
		if body != "*" {
			query, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				return nil, service.Errorf(service.CodeInvalidArgument, "invalid query string: %w", err)
			}
			if err := decodeQuery(msg.ProtoReflect(), query, bound, config.strict); err != nil {
				return nil, err
			}
		}
		return msg, nil
	}
}

// unmarshalBody reads data into msg, or into its field named field: a
// message field is unmarshaled into its own message, any other field's
// JSON must be one JSON value before it is wrapped, so a body can never
// add fields beside its own.
func unmarshalBody(options protojson.UnmarshalOptions, data []byte, msg proto.Message, field string) error {
	if field == "*" {
		return options.Unmarshal(data, msg)
	}
	m, fd, err := lookupField(msg.ProtoReflect(), field, true, true)
	if err != nil {
		return err
	}
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		return options.Unmarshal(data, m.Mutable(fd).Message().Interface())
	}
	if !json.Valid(data) {
		return errors.New("the body is not one JSON value")
	}
	key, err := json.Marshal(fd.JSONName())
	if err != nil {
		return err
	}
	wrapped := append(append(append([]byte("{"), key...), ':'), data...)
	wrapped = append(wrapped, '}')
	return options.Unmarshal(wrapped, m.Interface())
}

// maxQueryDepth bounds how deep a query parameter may name a field ("a.b.c"
// is 3 deep): each level is a message the server builds. It is far deeper
// than any API nests, and far below the 10,000 levels protobuf's decoders
// accept, so a request the HTTP server takes can always be passed on over
// gRPC (a 150,000-deep "inner.inner.…" parameter built a message no gRPC
// peer could read).
const maxQueryDepth = 100

// mapKeyParam matches a query parameter such as "labels[env]": the field
// path ends at the first "[" (field names have none), and the key is all
// between it and the final "]", brackets included ("labels[a[b]]" is the
// key "a[b]").
var mapKeyParam = regexp.MustCompile(`^([^\[]*)\[(.*)\]$`)

// decodeQuery sets the fields named by query parameters, skipping those
// whose field path starts with a bound one (a path variable or the body
// field): they come from the path or the body only, as http.proto says and
// grpc-gateway does. An unknown parameter is ignored unless strict.
func decodeQuery(m protoreflect.Message, query url.Values, bound []string, strict bool) error {
	keys := make([]string, 0, len(query))
	for key := range query {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	// spelled is the parameter that named each field (and map key): one
	// field named twice, by its proto and its JSON name, is refused as a
	// field given twice under one name is.
	spelled := map[string]string{}
	for _, key := range keys {
		values := query[key]
		name, entry := key, ""
		if match := mapKeyParam.FindStringSubmatch(key); match != nil {
			name, entry = match[1], "["+match[2]+"]"
			values = append([]string{match[2]}, values...)
		}
		if depth := strings.Count(name, ".") + 1; depth > maxQueryDepth {
			return service.Errorf(service.CodeInvalidArgument, "query parameter %q names a field %d levels deep; at most %d are allowed", bounded(key), depth, maxQueryDepth)
		}
		path := normalizeFieldPath(m.Descriptor(), name)
		if slices.ContainsFunc(bound, func(b string) bool { return path == b || strings.HasPrefix(path, b+".") }) {
			continue
		}
		if first, ok := spelled[path+entry]; ok {
			return service.Errorf(service.CodeInvalidArgument, "query parameters %q and %q name the same field %s", first, key, path+entry)
		}
		spelled[path+entry] = key
		if err := setField(m, path, values, strict); err != nil {
			return err
		}
	}
	return nil
}

// normalizeFieldPath spells a dotted path of proto or JSON names in proto
// names, as far as it resolves.
func normalizeFieldPath(md protoreflect.MessageDescriptor, path string) string {
	names := strings.Split(path, ".")
	for i, name := range names {
		if md == nil {
			break
		}
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			fd = md.Fields().ByJSONName(name)
		}
		if fd == nil {
			break
		}
		names[i] = string(fd.Name())
		md = nil
		if !fd.IsList() && !fd.IsMap() {
			md = fd.Message()
		}
	}
	return strings.Join(names, ".")
}

// lookupField finds the field at a dotted path of proto or JSON names,
// creating the messages on the way when create is set. It returns the
// message holding the field. When known is false an unknown field is no
// error: it returns a nil descriptor.
func lookupField(m protoreflect.Message, path string, create, known bool) (protoreflect.Message, protoreflect.FieldDescriptor, error) {
	names := strings.Split(path, ".")
	for i, name := range names {
		fields := m.Descriptor().Fields()
		fd := fields.ByName(protoreflect.Name(name))
		if fd == nil {
			fd = fields.ByJSONName(name)
		}
		if fd == nil {
			if !known {
				return nil, nil, nil
			}
			return nil, nil, service.Errorf(service.CodeInvalidArgument, "%s has no field %q", m.Descriptor().FullName(), path)
		}
		if of := fd.ContainingOneof(); of != nil && !of.IsSynthetic() {
			if set := m.WhichOneof(of); set != nil && set != fd {
				return nil, nil, service.Errorf(service.CodeInvalidArgument, "field %q: oneof %s already has %s set", path, of.Name(), set.Name())
			}
		}
		if i == len(names)-1 {
			return m, fd, nil
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			return nil, nil, service.Errorf(service.CodeInvalidArgument, "field %q is not a message", strings.Join(names[:i+1], "."))
		}
		if create {
			m = m.Mutable(fd).Message()
		} else {
			m = m.Get(fd).Message()
		}
	}
	return nil, nil, service.Errorf(service.CodeInvalidArgument, "empty field path")
}

// setField sets the field at path from the string forms in values: one for
// a singular field, any number for a repeated one, a key and a value for a
// map. known says whether an unknown field is an error.
func setField(m protoreflect.Message, path string, values []string, known bool) error {
	m, fd, err := lookupField(m, path, true, known)
	if err != nil || fd == nil {
		return err
	}
	parse := func(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
		v, err := parseValue(fd, s)
		if err != nil {
			return v, service.Errorf(service.CodeInvalidArgument, "field %q: %w", path, err)
		}
		return v, nil
	}
	switch {
	case fd.IsMap():
		if len(values) != 2 {
			return service.Errorf(service.CodeInvalidArgument, "map field %q takes one value per key, as %s[key]=value", path, path)
		}
		key, err := parse(fd.MapKey(), values[0])
		if err != nil {
			return err
		}
		value, err := parse(fd.MapValue(), values[1])
		if err != nil {
			return err
		}
		m.Mutable(fd).Map().Set(key.MapKey(), value)
	case fd.IsList():
		for _, s := range values {
			v, err := parse(fd, s)
			if err != nil {
				return err
			}
			m.Mutable(fd).List().Append(v)
		}
	default:
		if len(values) != 1 {
			return service.Errorf(service.CodeInvalidArgument, "field %q takes one value, got %d", path, len(values))
		}
		v, err := parse(fd, values[0])
		if err != nil {
			return err
		}
		m.Set(fd, v)
	}
	return nil
}

// parseValue parses the string form of a value of fd, as protojson spells
// it; durations may also be written as Go durations ("1h30m") and field
// masks as comma-separated proto paths, as grpc-gateway reads them.
func parseValue(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
	if !utf8.ValidString(s) && fd.Kind() != protoreflect.BytesKind {
		return protoreflect.Value{}, errors.New("the value is not valid UTF-8")
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		return protoreflect.ValueOfBool(b), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		return protoreflect.ValueOfUint64(n), err
	case protoreflect.FloatKind:
		f, err := strconv.ParseFloat(s, 32)
		return protoreflect.ValueOfFloat32(float32(f)), err
	case protoreflect.DoubleKind:
		f, err := strconv.ParseFloat(s, 64)
		return protoreflect.ValueOfFloat64(f), err
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BytesKind:
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				return protoreflect.ValueOfBytes(b), nil
			}
		}
		return protoreflect.Value{}, fmt.Errorf("%q is not base64", s)
	case protoreflect.EnumKind:
		if v := fd.Enum().Values().ByName(protoreflect.Name(s)); v != nil {
			return protoreflect.ValueOfEnum(v.Number()), nil
		}
		if n, err := strconv.ParseInt(s, 10, 32); err == nil && fd.Enum().Values().ByNumber(protoreflect.EnumNumber(n)) != nil {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
		}
		return protoreflect.Value{}, fmt.Errorf("%q is not a value of %s", s, fd.Enum().FullName())
	default:
		return parseMessage(fd.Message(), s)
	}
}

// parseMessage parses the well-known messages whose JSON form is a string
// or a number, such as Timestamp, Duration and the wrappers, and Struct,
// ListValue and Value from their JSON. A Value is read as JSON first, as
// grpc-gateway reads it ("1" is a number, "[1]" a list), and as a string
// when it is no JSON ("v=hello").
func parseMessage(md protoreflect.MessageDescriptor, s string) (protoreflect.Value, error) {
	switch md.FullName() {
	case "google.protobuf.Duration":
		if d, err := time.ParseDuration(s); err == nil {
			return protoreflect.ValueOfMessage(durationpb.New(d).ProtoReflect()), nil
		}
	case "google.protobuf.FieldMask":
		mask := &fieldmaskpb.FieldMask{}
		if s == "" {
			// The JSON form of an empty mask, not the one path "".
			return protoreflect.ValueOfMessage(mask.ProtoReflect()), nil
		}
		for path := range strings.SplitSeq(s, ",") {
			mask.Paths = append(mask.Paths, snakeCase(path))
		}
		return protoreflect.ValueOfMessage(mask.ProtoReflect()), nil
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		return protoreflect.Value{}, fmt.Errorf("a %s cannot be read from a URL", md.FullName())
	}
	msg := mt.New().Interface()
	forms := [][]byte{[]byte(strconv.Quote(s)), []byte(s)}
	if md.FullName() == "google.protobuf.Value" {
		forms[0], forms[1] = forms[1], forms[0]
	}
	if err := protojson.Unmarshal(forms[0], msg); err != nil {
		proto.Reset(msg)
		if protojson.Unmarshal(forms[1], msg) != nil {
			return protoreflect.Value{}, err
		}
	}
	return protoreflect.ValueOfMessage(msg.ProtoReflect()), nil
}

// snakeCase turns a lowerCamelCase field path into snake_case; snake_case
// stays as it is.
func snakeCase(path string) string {
	var b strings.Builder
	for _, r := range path {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// encodeHTTPResponse writes the response message, or only its field
// responseBody when the rule names one, as JSON.
func encodeHTTPResponse(responseBody string) httptransport.EncodeResponseFunc {
	return func(_ context.Context, w http.ResponseWriter, response any) error {
		msg := response.(proto.Message)
		data, err := marshaler.Marshal(msg)
		if err != nil {
			return err
		}
		if responseBody != "" {
			if data, err = fieldJSON(msg, data, responseBody); err != nil {
				return err
			}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, err = w.Write(data)
		return err
	}
}

// streamWriteTimeout bounds the writing of each message of an HTTP stream.
const streamWriteTimeout = time.Minute

// serverStreamHandler serves a server-streaming method as grpc-gateway
// does: each message is one line of JSON, {"result": message}, flushed as
// it is sent. An error before the first message is an ordinary JSON error
// with its status; after it, the status is sent already, so the error ends
// the stream as a line {"error": {...}} in the shape of encodeHTTPError.
//
// The server's WriteTimeout bounds a whole response, and would cut a
// stream off at that age without a word; a stream lasts as long as its
// caller wants, so each line gets streamWriteTimeout of its own instead: a
// client that stops reading still ends its stream.
func serverStreamHandler(decode httptransport.DecodeRequestFunc, responseBody string, call func(ctx context.Context, req any, send func(proto.Message) error) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := credentialsFromHTTP(r.Context(), r)
		req, err := decode(ctx, r)
		if err != nil {
			encodeHTTPError(ctx, err, w)
			return
		}
		rc := http.NewResponseController(w)
		writeLine := func(line []byte) error {
			// ErrNotSupported (a ResponseWriter without deadlines) leaves
			// the server's own bounds in force.
			_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			if _, err := w.Write(line); err != nil {
				return err
			}
			return rc.Flush()
		}
		started := false
		err = call(ctx, req, func(msg proto.Message) error {
			data, err := marshaler.Marshal(msg)
			if err != nil {
				return err
			}
			if responseBody != "" {
				if data, err = fieldJSON(msg, data, responseBody); err != nil {
					return err
				}
			}
			if !started {
				w.Header().Set("Content-Type", "application/x-ndjson")
				started = true
			}
			if len(data) == 0 {
				data = []byte("null") // an unset response_body field
			}
			return writeLine(append(append([]byte(`{"result":`), data...), "}\n"...))
		})
		// The end of the stream, however late, gets its time too.
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		switch {
		case err == nil:
			if !started {
				w.Header().Set("Content-Type", "application/x-ndjson")
			}
		case !started:
			encodeHTTPError(ctx, err, w)
		default:
			_, body := httpErrorJSON(err)
			_, _ = w.Write(body)
		}
	})
}

// httpClientEndpoint calls one HTTP route of the remote service: it fills the
// path template from the request, sends the field the rule names as the body
// and the remaining fields as query parameters, and decodes the response.
// Every failure is a *service.RemoteError: the remote's error (a redirect
// too, which it does not follow), a response it could not read, a
// transport failure (UNAVAILABLE, or the caller's own CANCELLED or
// DEADLINE_EXCEEDED) or a request it refused to send (INVALID_ARGUMENT).
func httpClientEndpoint(base *url.URL, client *http.Client, verb string, pattern pathPattern, body, responseBody string, newResponse func() proto.Message) endpoint.Endpoint {
	encode := func(_ context.Context, r *http.Request, request any) error {
		err := fillHTTPRequest(r, base, pattern, body, request.(proto.Message))
		if _, ok := errors.AsType[*service.RemoteError](err); err != nil && !ok {
			err = &service.RemoteError{Code: service.CodeOf(err), Message: service.MessageOf(err), Err: err}
		}
		return err
	}
	decode := func(_ context.Context, resp *http.Response) (any, error) {
		if resp.StatusCode != http.StatusOK {
			return nil, decodeHTTPError(resp)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
		if err != nil {
			return nil, &service.RemoteError{Code: failureCode(err), Message: fmt.Sprintf("reading the response of %s %s: %v", verb, pattern.template, err), Err: err}
		}
		if len(data) > maxBodyBytes {
			return nil, &service.RemoteError{Code: service.CodeResourceExhausted, Message: fmt.Sprintf("the response of %s %s exceeds %d bytes", verb, pattern.template, maxBodyBytes)}
		}
		msg := newResponse()
		if len(bytes.TrimSpace(data)) == 0 {
			return msg, nil // an unset response_body field
		}
		// Unknown fields come from a newer server: ignore them.
		if err := unmarshalBody(protojson.UnmarshalOptions{DiscardUnknown: true}, data, msg, cmp.Or(responseBody, "*")); err != nil {
			return nil, &service.RemoteError{Code: service.CodeInternal, Message: fmt.Sprintf("decoding the response of %s %s: %v", verb, pattern.template, err), Err: err}
		}
		return msg, nil
	}
	call := httptransport.NewClient(verb, base, encode, decode,
		httptransport.SetClient(noRedirects(client)),
		httptransport.ClientBefore(credentialsToHTTP),
	).Endpoint()
	return func(ctx context.Context, request any) (any, error) {
		response, err := call(ctx, request)
		if _, ok := errors.AsType[*service.RemoteError](err); err == nil || ok {
			return response, err
		}
		// The request did not get an answer.
		return nil, &service.RemoteError{Code: failureCode(err), Message: fmt.Sprintf("%s %s: %v", verb, pattern.template, err), Err: err}
	}
}

// failureCode is the code of a call that got no (whole) answer: the
// caller's own cancellation or deadline, else UNAVAILABLE. A deadline that
// expires while the response is read is no UNAVAILABLE, which a retry
// policy would retry.
func failureCode(err error) service.Code {
	switch {
	case errors.Is(err, context.Canceled):
		return service.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return service.CodeDeadlineExceeded
	default:
		return service.CodeUnavailable
	}
}

// noRedirects returns a copy of client that answers a redirect as the error
// it is instead of following it: a redirect takes the request to a path the
// client did not build or check, another method's route (GetShelf sent on
// to a book decoded the Book as a Shelf, with no error).
func noRedirects(client *http.Client) *http.Client {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// fillHTTPRequest sets the URL and body of r to call the route of pattern
// and body with msg, under base: the path from msg's path fields, the body
// from the field the rule names (or all of msg), and every other populated
// field as a query parameter. The path is set as it is, never parsed again,
// so nothing resolves or re-escapes it on the way.
func fillHTTPRequest(r *http.Request, base *url.URL, pattern pathPattern, body string, msg proto.Message) error {
	path, bound, err := pattern.expand(msg.ProtoReflect())
	if err != nil {
		return err
	}
	u := *base
	u.RawPath = strings.TrimSuffix(base.EscapedPath(), "/") + path
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return err
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	r.URL = &u
	if body != "" {
		data, err := marshaler.Marshal(msg)
		if err != nil {
			return err
		}
		if body != "*" {
			if data, err = fieldJSON(msg, data, body); err != nil {
				return err
			}
			bound = append(bound, body)
		}
		r.Header.Set("Content-Type", "application/json")
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.ContentLength = int64(len(data))
	}
	if body != "*" {
		query := url.Values{}
		if err := encodeQuery(query, "", msg.ProtoReflect(), bound); err != nil {
			return err
		}
		r.URL.RawQuery = query.Encode()
	}
	return nil
}

// fieldJSON returns the JSON of the top-level field named field out of
// data, the JSON of msg.
func fieldJSON(msg proto.Message, data []byte, field string) ([]byte, error) {
	name := field
	if fd := msg.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(field)); fd != nil {
		name = fd.JSONName()
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	return fields[name], nil
}

// fieldString formats the value of the singular field at path.
func fieldString(m protoreflect.Message, path string) (string, error) {
	m, fd, err := lookupField(m, path, false, true)
	if err != nil {
		return "", err
	}
	if !m.IsValid() || !m.Has(fd) {
		return "", nil
	}
	return formatValue(fd, m.Get(fd))
}

// encodeQuery adds every populated field of m that no path variable or body
// took to query, nested fields with dotted names and map entries as
// name[key]=value.
func encodeQuery(query url.Values, prefix string, m protoreflect.Message, bound []string) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case slices.Contains(bound, name):
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				var s string
				if s, err = formatValue(fd.MapValue(), mv); err == nil {
					query.Add(name+"["+k.String()+"]", s)
				}
				return err == nil
			})
		case fd.IsList():
			list := v.List()
			for i := 0; i < list.Len() && err == nil; i++ {
				var s string
				if s, err = formatValue(fd, list.Get(i)); err == nil {
					query.Add(name, s)
				}
			}
		case fd.Message() != nil && !jsonScalar[fd.Message().FullName()]:
			err = encodeQuery(query, name+".", v.Message(), bound)
		default:
			var s string
			if s, err = formatValue(fd, v); err == nil {
				query.Add(name, s)
			}
		}
		return err == nil
	})
	return err
}

// jsonScalar lists the well-known messages sent as one query parameter:
// those whose JSON form is a scalar, and Struct, ListValue and Value, sent
// as their JSON.
var jsonScalar = map[protoreflect.FullName]bool{
	"google.protobuf.Struct":      true,
	"google.protobuf.ListValue":   true,
	"google.protobuf.Value":       true,
	"google.protobuf.Timestamp":   true,
	"google.protobuf.Duration":    true,
	"google.protobuf.FieldMask":   true,
	"google.protobuf.DoubleValue": true,
	"google.protobuf.FloatValue":  true,
	"google.protobuf.Int64Value":  true,
	"google.protobuf.UInt64Value": true,
	"google.protobuf.Int32Value":  true,
	"google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue":   true,
	"google.protobuf.StringValue": true,
	"google.protobuf.BytesValue":  true,
}

// formatValue is the inverse of parseValue.
func formatValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) (string, error) {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), nil
		}
		return strconv.Itoa(int(v.Enum())), nil
	case protoreflect.BytesKind:
		// Standard base64, as protojson and the OpenAPI document's
		// "format: byte" spell bytes; the query escapes its "+" and "/".
		return base64.StdEncoding.EncodeToString(v.Bytes()), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		data, err := protojson.Marshal(v.Message().Interface())
		if err != nil {
			return "", err
		}
		// A JSON string is sent unquoted, but for a Value's: a Value is
		// read as JSON first, so its string "1" must not become 1.
		var s string
		if v.Message().Descriptor().FullName() != "google.protobuf.Value" && json.Unmarshal(data, &s) == nil {
			return s, nil
		}
		return string(data), nil
	default:
		return v.String(), nil
	}
}
