// Command {{ p.cli_name }} calls a method of {{ p.name }} over gRPC or HTTP.
//
//	{{ p.cli_name }} -grpc-addr localhost:8082 -method {{ p.first_method_name() }} '{{ p.first_method_example() }}'
//	{{ p.cli_name }} -http-addr localhost:8081 -method {{ p.first_method_name() }} '{{ p.first_method_example() }}'
//
// Requests and responses are JSON in the protobuf mapping, one message an
// argument and one response a line; client-streaming methods take several.
package main

import (
{{ imports }}
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errUsage marks a command line that cannot work.
var errUsage = errors.New("usage")

func run(args []string) error {
	fs := flag.NewFlagSet("{{ p.cli_name }}", flag.ContinueOnError)
	var (
		grpcAddr = fs.String("grpc-addr", "", "gRPC address of {{ p.name }}, e.g. localhost:8082")
		httpAddr = fs.String("http-addr", "", "HTTP address of {{ p.name }}, e.g. localhost:8081")
		method   = fs.String("method", "", "method to call: "+strings.Join(client.Methods(), ", "))
		timeout  = fs.Duration("timeout", 10*time.Second, "how long the call may take")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: {{ p.cli_name }} (-grpc-addr ADDR | -http-addr ADDR) -method METHOD [REQUEST_JSON...]\n\n")
		fs.PrintDefaults()
	}
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("{{ p.cli_env_prefix() }}")); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *method == "" || (*grpcAddr == "") == (*httpAddr == "") {
		fs.Usage()
		return fmt.Errorf("%w: give -method and one of -grpc-addr and -http-addr", errUsage)
	}

	var c *client.Client
	if *grpcAddr != "" {
		conn, err := grpc.NewClient(*grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		c = client.NewGRPC(conn)
	} else {
		var err error
		if c, err = client.NewHTTP(baseURL(*httpAddr)); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	return c.Call(ctx, *method, fs.Args(), func(response string) {
		fmt.Println(response)
	})
}

// baseURL accepts host:port as well as a full URL.
func baseURL(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return "http://" + addr
}
