import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.FileInputStream;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.pulsar.common.configuration.PulsarConfiguration;
import org.apache.pulsar.common.configuration.PulsarConfigurationLoader;

/**
 * Loads each properties file given after the class name into that Pulsar configuration class
 * the way the broker, proxy and websocket starters do (PulsarConfigurationLoader.create), and
 * prints, for every key of the file, one JSON line: the file, the key, and the Java type and
 * value of the class's field of that name after loading (an Optional unwrapped; type "none"
 * when the class has no such field). For tests/pulsar/test_pulsar_config_keys.py.
 */
public final class ConfigLoad {
    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        @SuppressWarnings("unchecked")
        Class<? extends PulsarConfiguration> type =
                (Class<? extends PulsarConfiguration>) Class.forName(args[0]);
        for (int i = 1; i < args.length; i++) {
            String path = args[i];
            Object config = PulsarConfigurationLoader.create(path, type);
            Properties written = new Properties();
            try (InputStream in = new FileInputStream(path)) {
                written.load(in);
            }
            for (String key : written.stringPropertyNames()) {
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("file", path);
                line.put("key", key);
                Field field = find(type, key);
                if (field == null) {
                    line.put("type", "none");
                } else {
                    field.setAccessible(true);
                    Object value = field.get(config);
                    if (value instanceof Optional<?> optional) {
                        value = optional.orElse(null);
                    }
                    line.put("type", value == null ? "null" : value.getClass().getName());
                    line.put("value", value == null ? null : String.valueOf(value));
                }
                System.out.println(json.writeValueAsString(line));
            }
        }
    }

    private static Field find(Class<?> type, String name) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            try {
                return c.getDeclaredField(name);
            } catch (NoSuchFieldException e) {
                // the superclass may declare it
            }
        }
        return null;
    }
}
