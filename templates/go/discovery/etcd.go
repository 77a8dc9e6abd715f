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
	// Register waits for etcd, without a deadline of its own: bound it, and
	// give up at once when shutdown begins, so a cluster out of reach
	// cannot hold a starting process past SIGTERM.
	registered := make(chan struct{})
	go func() {
		registrar.Register()
		close(registered)
	}()
	timer := time.NewTimer(etcdRegisterTimeout)
	defer timer.Stop()
	select {
	case <-registered:
	case <-timer.C:
		return nil, fmt.Errorf("registering with etcd at %s: no answer within %s", strings.Join(addrs, ","), etcdRegisterTimeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("registering with etcd at %s: %w", strings.Join(addrs, ","), context.Cause(ctx))
	}
	if logger != nil {
		logger.Info("registered", "registry", "etcd", "instance", instance)
	}
	return registrar, nil
}

// etcdRegisterTimeout bounds how long RegisterEtcd waits for etcd.
const etcdRegisterTimeout = 10 * time.Second

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
