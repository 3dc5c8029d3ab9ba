/**
 * The egress forwarder: runs inside a cell that was granted egress. The cell has no network
 * interface; this listens on 127.0.0.1 (the cell's own loopback) and pipes every TCP
 * connection, byte for byte, to the host's egress proxy through the unix socket mounted into
 * the cell. Programs in the cell reach it through HTTP_PROXY / HTTPS_PROXY. It decides
 * nothing: every check is the proxy's, on the host.
 *
 * Usage: node egress-forwarder.mjs <proxy-socket> <port>
 * Prints one line `{"ready":true,"port":N}` once listening (port 0 picks a free port).
 * Node built-ins only: this file is mounted into the cell on its own.
 */
import net from 'node:net';

function fail(message: string): never {
  process.stderr.write(`egress-forwarder: ${message}\n`);
  process.exit(2);
}

function main(argv: string[]): void {
  const [socketPath, portText] = argv;
  const port = Number(portText);
  if (
    !socketPath ||
    portText === undefined ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65535
  ) {
    fail(
      'usage: node egress-forwarder.mjs <proxy-socket> <port>, e.g. /run/nanocell/egress.sock 3128',
    );
  }
  const server = net.createServer((client) => {
    const proxy = net.connect({ path: socketPath });
    // Either side failing ends both: a half-dead pair would hold the client forever.
    client.on('error', () => proxy.destroy());
    proxy.on('error', (err) => {
      process.stderr.write(
        `egress-forwarder: cannot reach the proxy at ${socketPath}: ${err.message}\n`,
      );
      client.destroy();
    });
    client.pipe(proxy);
    proxy.pipe(client);
    client.on('close', () => proxy.destroy());
    proxy.on('close', () => client.end());
  });
  server.on('error', (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    process.stdout.write(`${JSON.stringify({ ready: true, port: bound })}\n`);
  });
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv.slice(2));
