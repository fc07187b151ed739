import type { Server } from 'node:net';
import { CityFlowError } from '@cityflow/protocol';

/** Listens, turning EADDRINUSE into an error that names the port and the flag that sets it. */
export function listenOn(server: Server, port: number, host: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE')
        reject(
          new CityFlowError('CF_PORT_IN_USE', `port ${port} is already in use (set another with ${flag})`),
        );
      else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** URLs other processes can use: a wildcard bind is reached through loopback. */
export function hostFor(bind: string): string {
  return bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
}
