// Prints, for each Pulsar server that authenticates /metrics, whether its configuration class
// of the tested Pulsar version does so by default (test_pulsar_metrics_auth.py).
public class MetricsAuthDefaults {
    public static void main(String[] args) {
        System.out.println("broker=" + new org.apache.pulsar.broker.ServiceConfiguration()
                .isAuthenticateMetricsEndpoint());
        System.out.println("proxy=" + new org.apache.pulsar.proxy.server.ProxyConfiguration()
                .isAuthenticateMetricsEndpoint());
        System.out.println("functionsWorker="
                + new org.apache.pulsar.functions.worker.WorkerConfig()
                .isAuthenticateMetricsEndpoint());
    }
}
