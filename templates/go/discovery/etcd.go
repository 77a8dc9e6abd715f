package discovery

import (
{{ imports() }}
)

// EtcdPrefix is the etcd key prefix of {{ p.name }}'s instances: each registers
// the key EtcdPrefix + its gRPC address, with that address as value.
const EtcdPrefix = "/services/{{ p.name }}/"

// RegisterEtcd registers instance in the etcd cluster at addrs, under a
// lease that outlives a crashed instance by its TTL at most. Deregister the
// registrar it returns at shutdown.
func RegisterEtcd(ctx context.Context, addrs []string, instance string, logger *slog.Logger) (sd.Registrar, error) {
	// The client deregisters after shutdown cancels ctx: keep it alive.
	client, err := etcdClient(context.WithoutCancel(ctx), addrs)
	if err != nil {
		return nil, err
	}
	registrar := etcdv3.NewRegistrar(client, etcdv3.Service{
		Key:   EtcdPrefix + instance,
		Value: instance,
		TTL:   etcdv3.NewTTLOption(time.Second, 5*time.Second),
	}, KitLogger(logger))
	registrar.Register()
	if logger != nil {
		logger.Info("registered", "registry", "etcd", "instance", instance)
	}
	return registrar, nil
}

// EtcdInstancer follows the instances registered in the etcd cluster at addrs.
func EtcdInstancer(ctx context.Context, addrs []string, logger *slog.Logger) (sd.Instancer, error) {
	client, err := etcdClient(ctx, addrs)
	if err != nil {
		return nil, err
	}
	return etcdv3.NewInstancer(client, EtcdPrefix, KitLogger(logger))
}

func etcdClient(ctx context.Context, addrs []string) (etcdv3.Client, error) {
	client, err := etcdv3.NewClient(ctx, addrs, etcdv3.ClientOptions{
		DialTimeout:   3 * time.Second,
		DialKeepAlive: 3 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd: %w", err)
	}
	return client, nil
}
