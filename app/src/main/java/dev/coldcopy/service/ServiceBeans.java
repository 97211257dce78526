package dev.coldcopy.service;

import org.apache.camel.main.Main;

/** The beans the YAML routes refer to by name. */
final class ServiceBeans {
    private ServiceBeans() {}

    static void bindAll(Main main) {
        main.bind("eventIntake", new EventIntakeProcessor());
        main.bind("deadLetter", new DeadLetterProcessor());
        main.bind("httpEventResponse", new HttpEventResponse());
    }
}
