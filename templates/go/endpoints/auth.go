package endpoints

import "context"

// Authenticate admits or refuses a request to method (such as "{{ p.first_label() }}")
// before it reaches the service. Streaming methods pass here too.
//
// It admits every request: complete it to require credentials. The
// transports put the request's HTTP Authorization header or gRPC
// authorization metadata in ctx; read it with Credentials(ctx). Return an
// error to refuse: a plain one answers 401 / UNAUTHENTICATED, and
// service.Errorf(service.CodePermissionDenied, "...") answers 403 /
// PERMISSION_DENIED. For example:
//
//	if Credentials(ctx) != "Bearer "+os.Getenv("API_TOKEN") {
//		return errors.New("a valid bearer token is required")
//	}
func Authenticate(ctx context.Context, method string) error {
	return nil
}
