package endpoints

import "context"

// Authenticate admits or refuses a request to method (such as "{{ p.first_label() }}")
// before it reaches the service, and returns the context the service sees:
// put the caller's identity in it. Streaming methods pass here too.
//
// It admits every request: complete it to require credentials. The
// transports put the request's HTTP Authorization header or gRPC
// authorization metadata in ctx; read it with Credentials(ctx). Return an
// error to refuse: a plain one answers 401 / UNAUTHENTICATED "the request
// is not authenticated" (its text is logged, never sent), and a service
// error answers as it is: service.Errorf(service.CodePermissionDenied,
// "...") answers 403 / PERMISSION_DENIED. For example:
//
//	caller, ok := tokens[Credentials(ctx)]
//	if !ok {
//		return ctx, service.Errorf(service.CodeUnauthenticated, "a valid bearer token is required")
//	}
//	return context.WithValue(ctx, callerKey{}, caller), nil
func Authenticate(ctx context.Context, method string) (context.Context, error) {
	return ctx, nil
}
