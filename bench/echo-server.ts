/**
 * The echo of the sign bench: a bare Fastify POST route (default options, no logger, no auth, no schemas)
 * that parses the JSON body and answers a constant signature. With the raw sign rate it gives the composite
 * ceiling 1 / (1/echo + 1/raw) the service is held to: HTTP plus signing, and nothing else.
 *
 * Environment: PORT, HOST (default 127.0.0.1).
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';

const app = Fastify();
const answer = { signature: randomBytes(64).toString('base64') };

app.get('/readyz', async () => ({ status: 'ready' }));
app.post('/v1/synchronousSign', async () => answer);

const shutdown = async () => {
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
