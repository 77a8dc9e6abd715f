package endpoints

import "context"

// Authenticate admits or refuses a request to method (such as "{{ p.first_label() }}")
// before it reaches the service. Streaming methods pass here too.
//
// It admits every request: complete it to require credentials. The
// transports put the request's HTTP Authorization header or gRPC
// authorization metadata in ctx; read it with Credentials(ctx). Return an
// error to refuse: a plain one answers 401 / UNAUTHENTICATED "the request
// is not authenticated" (its text is logged, never sent), and a service
// error answers as it is: service.Errorf(service.CodePermissionDenied,
// "...") answers 403 / PERMISSION_DENIED. For example:
//
//	if Credentials(ctx) != "Bearer "+os.Getenv("API_TOKEN") {
//		return service.Errorf(service.CodeUnauthenticated, "a valid bearer token is required")
//	}
func Authenticate(ctx context.Context, method string) error {
	return nil
}
