package discovery

import (
{{ imports() }}
)

// ConsulService is the Consul service name instances register under.
const ConsulService = "{{ p.k8s_name() }}"

// RegisterConsul registers instance with the Consul agent at addr, with a
// gRPC health check; Consul drops an instance critical for a minute.
// Deregister the registrar it returns at shutdown.
func RegisterConsul(addr, instance string, logger *slog.Logger) (sd.Registrar, error) {
	client, err := consul.NewClient(&consul.Config{Address: addr})
	if err != nil {
		return nil, fmt.Errorf("connecting to Consul: %w", err)
	}
	host, portText, err := net.SplitHostPort(instance)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("instance %q: %w", instance, err)
	}
	registrar := consulsd.NewRegistrar(consulsd.NewClient(client), &consul.AgentServiceRegistration{
		ID:      ConsulService + "-" + instance,
		Name:    ConsulService,
		Address: host,
		Port:    port,
		Check: &consul.AgentServiceCheck{
			GRPC:                           instance,
			Interval:                       "10s",
			Timeout:                        "2s",
			DeregisterCriticalServiceAfter: "1m",
		},
	}, KitLogger(logger))
	registrar.Register()
	if logger != nil {
		logger.Info("registered", "registry", "consul", "instance", instance)
	}
	return registrar, nil
}

// ConsulInstancer follows the passing instances the Consul agent at addr knows.
func ConsulInstancer(addr string, logger *slog.Logger) (sd.Instancer, error) {
	client, err := consul.NewClient(&consul.Config{Address: addr})
	if err != nil {
		return nil, fmt.Errorf("connecting to Consul: %w", err)
	}
	return consulsd.NewInstancer(consulsd.NewClient(client), KitLogger(logger), ConsulService, nil, true), nil
}
