import org.apache.pulsar.common.util.SecurityUtility;

/**
 * Loads each PEM private key file given as an argument with the loader Pulsar's TLS servers and
 * clients use (SecurityUtility.loadPrivateKeyFromPemFile) and prints `<file> ok` or
 * `<file> error <message>`. For tests/pulsar/test_pulsar_config_keys.py: which key encodings
 * a Pulsar process reads from tlsKeyFilePath.
 */
public final class KeyLoad {
    public static void main(String[] args) {
        for (String path : args) {
            try {
                SecurityUtility.loadPrivateKeyFromPemFile(path);
                System.out.println(path + " ok");
            } catch (Exception e) {
                System.out.println(path + " error " + e.getMessage());
            }
        }
    }
}
