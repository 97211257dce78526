package dev.coldcopy.serve.camel;

import java.util.Map;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

/**
 * The {@code coldcopy-serve:} component: a route that starts with {@code coldcopy-serve:vm/disk?repository=...}
 * serves that disk's snapshot over NBD while it runs (see {@link ServeConsumer}).
 */
@Component("coldcopy-serve")
public class ServeComponent extends DefaultComponent {

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        int slash = remaining.indexOf('/');
        if (slash <= 0 || slash == remaining.length() - 1 || remaining.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("coldcopy-serve wants vm/disk (e.g. coldcopy-serve:web/vda), not '" + remaining + "'");
        }
        ServeConfiguration configuration = new ServeConfiguration();
        configuration.setVm(remaining.substring(0, slash));
        configuration.setDisk(remaining.substring(slash + 1));
        setProperties(configuration, parameters);
        configuration.validate();
        return new ServeEndpoint(uri, this, configuration);
    }
}
