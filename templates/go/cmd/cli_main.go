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
		{{ pad("grpcAddr", p.discovery.cli_var_width()) }} = fs.String("grpc-addr", "", "gRPC address of {{ p.name }}, e.g. localhost:8082")
		{{ pad("httpAddr", p.discovery.cli_var_width()) }} = fs.String("http-addr", "", "HTTP address of {{ p.name }}, e.g. localhost:8081")
{%- if p.discovery.etcd %}
		{{ pad("etcdAddrs", p.discovery.cli_var_width()) }} = fs.String("etcd-addr", "", "comma-separated etcd endpoints: call the instances registered there")
{%- endif %}
{%- if p.discovery.consul %}
		{{ pad("consulAddr", p.discovery.cli_var_width()) }} = fs.String("consul-addr", "", "Consul agent address: call the instances registered there")
{%- endif %}
		{{ pad("dnsSRV", p.discovery.cli_var_width()) }} = fs.String("dns-srv", "", "DNS SRV name, such as a headless Service: call the instances it lists")
		{{ pad("method", p.discovery.cli_var_width()) }} = fs.String("method", "", "method to call: "+strings.Join(client.Methods(), ", "))
		{{ pad("timeout", p.discovery.cli_var_width()) }} = fs.Duration("timeout", 10*time.Second, "how long the call may take")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: {{ p.cli_name }} (-grpc-addr ADDR | -http-addr ADDR{% if p.discovery.etcd %} | -etcd-addr ADDRS{% endif %}{% if p.discovery.consul %} | -consul-addr ADDR{% endif %} | -dns-srv NAME) -method METHOD [REQUEST_JSON...]\n\n")
		fs.PrintDefaults()
	}
	if err := envflag.Parse(fs, args, "{{ p.cli_env_prefix() }}"); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	discovery := client.Discovery{
{%- if p.discovery.etcd %}
		{{ pad("EtcdAddrs:", p.discovery.key_width()) }} strings.FieldsFunc(*etcdAddrs, func(r rune) bool { return r == ',' }),
{%- endif %}
{%- if p.discovery.consul %}
		ConsulAddr: *consulAddr,
{%- endif %}
		{{ pad("DNSSRV:", p.discovery.key_width()) }} *dnsSRV,
	}
	balanced := *dnsSRV != ""{% if p.discovery.etcd %} || *etcdAddrs != ""{% endif %}{% if p.discovery.consul %} || *consulAddr != ""{% endif %}
	targets := 0
	for _, set := range []bool{*grpcAddr != "", *httpAddr != ""{% if p.discovery.etcd %}, *etcdAddrs != ""{% endif %}{% if p.discovery.consul %}, *consulAddr != ""{% endif %}, *dnsSRV != ""} {
		if set {
			targets++
		}
	}
	if *method == "" || targets != 1 {
		fs.Usage()
		return fmt.Errorf("%w: give -method and one of -grpc-addr, -http-addr, {% if p.discovery.etcd %}-etcd-addr, {% endif %}{% if p.discovery.consul %}-consul-addr, {% endif %}and -dns-srv", errUsage)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var c *client.Client
	switch {
	case balanced:
		instancer, err := client.Instancer(ctx, discovery, nil)
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
