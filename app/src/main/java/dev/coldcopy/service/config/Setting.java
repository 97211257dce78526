package dev.coldcopy.service.config;

import dev.coldcopy.event.EventParser;
import java.util.Locale;
import java.util.Optional;

/**
 * One configuration key the service understands, with the form its value must take. A value is checked
 * once, at start, so that a typo fails with the key and the expected form instead of a bare
 * {@code For input string: "abc"} from deep inside a route.
 */
public record Setting(String key, Form form) {

    /** What a value must look like. */
    public enum Form {
        TEXT("any text") {
            @Override
            boolean fits(String value) {
                return true;
            }
        },
        WHOLE_NUMBER("a whole number >= 0, e.g. 3") {
            @Override
            boolean fits(String value) {
                return isWholeNumber(value, 0, Long.MAX_VALUE);
            }
        },
        POSITIVE_NUMBER("a whole number >= 1, e.g. 2") {
            @Override
            boolean fits(String value) {
                return isWholeNumber(value, 1, Long.MAX_VALUE);
            }
        },
        DECIMAL("a number >= 1.0, e.g. 2.0") {
            @Override
            boolean fits(String value) {
                try {
                    return Double.parseDouble(value.strip()) >= 1.0;
                } catch (NumberFormatException e) {
                    return false;
                }
            }
        },
        BOOLEAN("true or false") {
            @Override
            boolean fits(String value) {
                String v = value.strip().toLowerCase(Locale.ROOT);
                return v.equals("true") || v.equals("false");
            }
        },
        EXPORT_WAY("storage-daemon or qemu-nbd") {
            @Override
            boolean fits(String value) {
                String v = value.strip();
                return v.equals("storage-daemon") || v.equals("qemu-nbd");
            }
        },
        EVENT_SIZE("a size in bytes, 1.." + EventParser.MAX_EVENT_BYTES) {
            @Override
            boolean fits(String value) {
                return isWholeNumber(value, 1, EventParser.MAX_EVENT_BYTES);
            }
        },
        PORT("a TCP port 0..65535 (0: any free port)") {
            @Override
            boolean fits(String value) {
                return isWholeNumber(value, 0, 65535);
            }
        },
        KEEP_COUNT("a number of snapshots, or -1 for every period") {
            @Override
            boolean fits(String value) {
                return isWholeNumber(value, -1, Integer.MAX_VALUE);
            }
        },
        KEEP_WITHIN("a duration such as 7d, 36h, 2w, 1y6m") {
            @Override
            boolean fits(String value) {
                try {
                    dev.coldcopy.repository.lifecycle.KeepRules.parseDuration(value);
                    return true;
                } catch (IllegalArgumentException e) {
                    return false;
                }
            }
        },
        PERIOD("a period such as 24h, 30m, 10s (or milliseconds)") {
            @Override
            boolean fits(String value) {
                return value.strip().matches("(\\d+|(\\d+h)?(\\d+m)?(\\d+s)?)") && !value.isBlank();
            }
        };

        private final String description;

        Form(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }

        abstract boolean fits(String value);

        private static boolean isWholeNumber(String value, long min, long max) {
            try {
                long n = Long.parseLong(value.strip());
                return n >= min && n <= max;
            } catch (NumberFormatException e) {
                return false;
            }
        }
    }

    /** The one-line reason this value does not fit, naming the key and the expected form. */
    public Optional<String> check(String value) {
        return form.fits(value) ? Optional.empty()
                : Optional.of(key + " = '" + value + "' is not valid: expected " + form.description());
    }

    /** The environment variable that sets this key: upper case, '.' and '-' as '_'. */
    public String environmentVariable() {
        return environmentVariable(key);
    }

    public static String environmentVariable(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
