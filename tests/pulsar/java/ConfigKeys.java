import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/**
 * Prints the configuration keys a class declares, for tests/pulsar/test_pulsar_config_keys.py:
 * `field <name>` for every instance field of the class and its superclasses (Pulsar's
 * configuration classes bind a properties key to the field of the same name), and
 * `const <value>` for every static final String (BookKeeper's configuration classes name their
 * keys that way). One line per key, classes given as arguments, loaded without initialising.
 * An argument `new:<class>` instead creates the object and prints `property <value>` for every
 * public no-argument `get...Property()` returning a String (ZooKeeper's X509Util family names its
 * `zookeeper.ssl.*` system properties that way, from a prefix).
 */
public final class ConfigKeys {
    public static void main(String[] args) throws Exception {
        ClassLoader loader = ConfigKeys.class.getClassLoader();
        for (String name : args) {
            if (name.startsWith("new:")) {
                Object made = Class.forName(name.substring(4), true, loader).getConstructor().newInstance();
                for (java.lang.reflect.Method method : made.getClass().getMethods()) {
                    if (method.getParameterCount() == 0 && method.getReturnType() == String.class
                            && method.getName().startsWith("get") && method.getName().endsWith("Property")) {
                        System.out.println(name + " property " + method.invoke(made));
                    }
                }
                continue;
            }
            for (Class<?> type = Class.forName(name, false, loader); type != null && type != Object.class;
                 type = type.getSuperclass()) {
                for (Field field : type.getDeclaredFields()) {
                    int mods = field.getModifiers();
                    if (!Modifier.isStatic(mods)) {
                        System.out.println(name + " field " + field.getName());
                    } else if (Modifier.isFinal(mods) && field.getType() == String.class) {
                        field.setAccessible(true);
                        Object value = field.get(null);
                        if (value != null) {
                            System.out.println(name + " const " + value);
                        }
                    }
                }
            }
        }
    }
}
