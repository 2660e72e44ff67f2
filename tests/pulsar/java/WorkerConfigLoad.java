import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.lang.reflect.Field;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pulsar.functions.worker.WorkerConfig;

/**
 * Loads each functions_worker.yml given as an argument the way the functions worker does
 * (WorkerConfig.load: Jackson's YAML mapper into WorkerConfig), and prints, for every top-level
 * key of the file, one JSON line: the file, the key, and the Java type and value of the
 * WorkerConfig field of that name after loading (type "none" when WorkerConfig has no such
 * field). For tests/pulsar/test_pulsar_config_keys.py: the worker must parse what we write.
 */
public final class WorkerConfigLoad {
    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        for (String path : args) {
            WorkerConfig config = WorkerConfig.load(path);
            Map<?, ?> written = yaml.readValue(new File(path), Map.class);
            for (Object key : written.keySet()) {
                Field field = find(WorkerConfig.class, String.valueOf(key));
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("file", path);
                line.put("key", key);
                if (field == null) {
                    line.put("type", "none");
                } else {
                    field.setAccessible(true);
                    Object value = field.get(config);
                    line.put("type", value == null ? "null" : value.getClass().getName());
                    line.put("value", value);
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
