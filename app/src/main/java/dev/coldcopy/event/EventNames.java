package dev.coldcopy.event;

import dev.coldcopy.security.NameRefusedException;
import java.util.function.UnaryOperator;

/**
 * The name rules of {@link dev.coldcopy.security.Names}, as event validation: a refused name makes the
 * event bad (dead-lettered, never retried).
 */
public final class EventNames {
    private EventNames() {}

    public static String vm(String name) {
        return check(dev.coldcopy.security.Names::vmName, name);
    }

    public static String target(String name) {
        return check(dev.coldcopy.security.Names::diskTarget, name);
    }

    public static String checkpoint(String name) {
        return check(dev.coldcopy.security.Names::checkpoint, name);
    }

    /** Keeps a hostile value from breaking the one-line reason it is quoted in. */
    static String printable(String value) {
        return dev.coldcopy.security.Names.printable(value);
    }

    private static String check(UnaryOperator<String> rule, String name) {
        try {
            return rule.apply(name);
        } catch (NameRefusedException e) {
            throw new BadEventException(e.getMessage());
        }
    }
}
