// Command {{ p.cli_name }} calls a method of {{ p.name }} over gRPC or HTTP.
//
//	{{ p.cli_name }} -grpc-addr localhost:8082 -method {{ p.first_method_name() }} '{{ p.first_method_example() }}'
//	{{ p.cli_name }} -http-addr localhost:8081 -method {{ p.first_method_name() }} '{{ p.first_method_example() }}'
//
// Requests and responses are JSON in the protobuf mapping, one message an
// argument and one response a line; client-streaming methods take several.
package main

import (
{{ imports() }}
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
		grpcAddr   = fs.String("grpc-addr", "", "gRPC address of {{ p.name }}, e.g. localhost:8082")
		httpAddr   = fs.String("http-addr", "", "HTTP address of {{ p.name }}, e.g. localhost:8081")
		etcdAddrs  = fs.String("etcd-addr", "", "comma-separated etcd endpoints: call the instances registered there")
		consulAddr = fs.String("consul-addr", "", "Consul agent address: call the instances registered there")
		dnsSRV     = fs.String("dns-srv", "", "DNS SRV name, such as a headless Service: call the instances it lists")
		method     = fs.String("method", "", "method to call: "+strings.Join(client.Methods(), ", "))
		timeout    = fs.Duration("timeout", 10*time.Second, "how long the call may take")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: {{ p.cli_name }} (-grpc-addr ADDR | -http-addr ADDR | -etcd-addr ADDRS | -consul-addr ADDR | -dns-srv NAME) -method METHOD [REQUEST_JSON...]\n\n")
		fs.PrintDefaults()
	}
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("{{ p.cli_env_prefix() }}")); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	discovery := client.Discovery{
		EtcdAddrs:  strings.FieldsFunc(*etcdAddrs, func(r rune) bool { return r == ',' }),
		ConsulAddr: *consulAddr,
		DNSSRV:     *dnsSRV,
	}
	targets := 0
	for _, set := range []bool{*grpcAddr != "", *httpAddr != "", *etcdAddrs != "", *consulAddr != "", *dnsSRV != ""} {
		if set {
			targets++
		}
	}
	if *method == "" || targets != 1 {
		fs.Usage()
		return fmt.Errorf("%w: give -method and one of -grpc-addr, -http-addr, -etcd-addr, -consul-addr and -dns-srv", errUsage)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var c *client.Client
	switch {
	case *etcdAddrs != "" || *consulAddr != "" || *dnsSRV != "":
		instancer, err := client.Instancer(ctx, discovery, log.NewNopLogger())
		if err != nil {
			return err
		}
		c = client.NewBalanced(instancer, client.Options{Timeout: *timeout})
	case *grpcAddr != "":
		conn, err := grpc.NewClient(*grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		c = client.NewGRPC(conn)
	default:
		var err error
		if c, err = client.NewHTTP(baseURL(*httpAddr)); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
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
