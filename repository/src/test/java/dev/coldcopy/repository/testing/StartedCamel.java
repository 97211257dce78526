package dev.coldcopy.repository.testing;

import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** A Camel context started before each test and stopped after it: {@code @RegisterExtension StartedCamel camel}. */
public final class StartedCamel implements BeforeEachCallback, AfterEachCallback {
    private DefaultCamelContext context;

    @Override
    public void beforeEach(ExtensionContext extension) {
        context = new DefaultCamelContext();
        context.start();
    }

    @Override
    public void afterEach(ExtensionContext extension) {
        context.stop();
    }

    public DefaultCamelContext context() {
        return context;
    }
}
