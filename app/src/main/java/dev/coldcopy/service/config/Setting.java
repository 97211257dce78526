package dev.coldcopy.service.config;

import java.util.Locale;
import java.util.Optional;

/**
 * One configuration key the service understands, with the form its value must take. A value is checked
 * once, at start, so that a typo fails with the key and the expected form instead of a bare
 * {@code For input string: "abc"} from deep inside a route.
 */
public record Setting(String key, Form form) {

    /** What a value must look like; {@link #problem} is empty when the value fits. */
    public enum Form {
        TEXT("any text") {
            @Override
            Optional<String> problem(String value) {
                return Optional.empty();
            }
        },
        WHOLE_NUMBER("a whole number >= 0, e.g. 3") {
            @Override
            Optional<String> problem(String value) {
                return wholeNumber(value, 0);
            }
        },
        POSITIVE_NUMBER("a whole number >= 1, e.g. 2") {
            @Override
            Optional<String> problem(String value) {
                return wholeNumber(value, 1);
            }
        },
        DECIMAL("a number >= 1.0, e.g. 2.0") {
            @Override
            Optional<String> problem(String value) {
                try {
                    return Double.parseDouble(value.strip()) >= 1.0 ? Optional.empty() : Optional.of(description());
                } catch (NumberFormatException e) {
                    return Optional.of(description());
                }
            }
        },
        BOOLEAN("true or false") {
            @Override
            Optional<String> problem(String value) {
                String v = value.strip().toLowerCase(Locale.ROOT);
                return v.equals("true") || v.equals("false") ? Optional.empty() : Optional.of(description());
            }
        },
        EXPORT_WAY("storage-daemon or qemu-nbd") {
            @Override
            Optional<String> problem(String value) {
                String v = value.strip();
                return v.equals("storage-daemon") || v.equals("qemu-nbd") ? Optional.empty() : Optional.of(description());
            }
        },
        EVENT_SIZE("a size in bytes, 1.." + dev.coldcopy.event.EventParser.MAX_EVENT_BYTES) {
            @Override
            Optional<String> problem(String value) {
                Optional<String> number = wholeNumber(value, 1);
                return number.isPresent() || Long.parseLong(value.strip()) > dev.coldcopy.event.EventParser.MAX_EVENT_BYTES
                        ? Optional.of(description()) : Optional.empty();
            }
        },
        PORT("a TCP port 0..65535 (0: any free port)") {
            @Override
            Optional<String> problem(String value) {
                Optional<String> number = wholeNumber(value, 0);
                return number.isPresent() || Long.parseLong(value.strip()) > 65535 ? Optional.of(description()) : Optional.empty();
            }
        };

        private final String description;

        Form(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }

        abstract Optional<String> problem(String value);

        private static Optional<String> wholeNumber(String value, long min) {
            try {
                return Long.parseLong(value.strip()) >= min ? Optional.empty() : Optional.of("x");
            } catch (NumberFormatException e) {
                return Optional.of("x");
            }
        }
    }

    /** The one-line reason this value does not fit, naming the key and the expected form. */
    public Optional<String> check(String value) {
        return form.problem(value).map(p -> key + " = '" + value + "' is not valid: expected " + form.description());
    }

    /** The environment variable that sets this key: upper case, '.' and '-' as '_'. */
    public String environmentVariable() {
        return environmentVariable(key);
    }

    public static String environmentVariable(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
