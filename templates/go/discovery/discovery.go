// Package discovery finds instances of {{ p.name }}: a fixed list or DNS SRV
// records{% if p.discovery.etcd %}, etcd{% endif %}{% if p.discovery.consul %}, Consul{% endif %}{% if p.discovery.any() %}, where servers register themselves{% endif %}.
// The backends kitgen.toml names in discovery are the only ones generated,
// and so the only ones linked.
package discovery

import (
{{ imports() }}
)

// FixedInstancer is a fixed list of instances. Unlike sd.FixedInstancer, it
// hands each subscriber its own copy of the list, as go-kit's instancers do:
// a subscriber may sort the list it receives in place.
type FixedInstancer []string

// Register implements sd.Instancer.
func (f FixedInstancer) Register(ch chan<- sd.Event) {
	ch <- sd.Event{Instances: append([]string(nil), f...)}
}

// Deregister implements sd.Instancer.
func (FixedInstancer) Deregister(chan<- sd.Event) {}

// Stop implements sd.Instancer.
func (FixedInstancer) Stop() {}

// DNSSRVInstancer follows the targets of the DNS SRV records of name, such
// as a Kubernetes headless Service's, looked up every 30 seconds.
func DNSSRVInstancer(name string, logger *slog.Logger) sd.Instancer {
	return dnssrv.NewInstancer(name, 30*time.Second, KitLogger(logger))
}

// KitLogger adapts logger to go-kit's log.Logger, which go-kit's sd
// packages take: a record with an "err" is logged at warn level, others at
// debug; "msg" is the message. A nil logger discards.
func KitLogger(logger *slog.Logger) kitlog.Logger {
	if logger == nil {
		return kitlog.NewNopLogger()
	}
	return kitlog.LoggerFunc(func(keyvals ...any) error {
		level, msg := slog.LevelDebug, "discovery"
		attrs := make([]any, 0, len(keyvals))
		for i := 0; i+1 < len(keyvals); i += 2 {
			switch keyvals[i] {
			case "msg":
				msg = fmt.Sprint(keyvals[i+1])
				continue
			case "err":
				level = slog.LevelWarn
			}
			attrs = append(attrs, keyvals[i], keyvals[i+1])
		}
		logger.Log(context.Background(), level, msg, attrs...)
		return nil
	})
}
{%- if p.discovery.any() %}

// Advertised is the address to register: explicit, or the listening one,
// with this host's name when it listens on every address.
func Advertised(explicit string, listening net.Addr) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	host, port, err := net.SplitHostPort(listening.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if host, err = os.Hostname(); err != nil {
			return "", err
		}
	}
	return net.JoinHostPort(host, port), nil
}
{%- endif %}
