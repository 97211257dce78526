package dev.coldcopy.nbd.protocol;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The package's logger, created on first use: SLF4J's start-up (a service-loader scan of the class
 * path) then costs nothing on the happy path, which logs nothing. Short-lived processes such as
 * {@code coldcopy map} start noticeably faster.
 */
final class NbdLog {
    private NbdLog() {
    }

    static Logger log() {
        return Holder.LOG;
    }

    private static final class Holder {
        static final Logger LOG = LoggerFactory.getLogger("dev.coldcopy.nbd.protocol");
    }
}
