/** `tsb token issue`: a bearer JWT for a partition, signed with the service's issuer key. */
import { createJwtIssuer } from '../auth/jwt-issuer.js';
import {
  type Command,
  parseRoleOption,
  ROLE_LIST,
  requiredString,
  requirePartition,
  UsageError,
} from './command.js';

export const TOKEN_COMMANDS: Command[] = [
  {
    name: 'token issue',
    usage: 'tsb token issue --partition NAME --roles ROLE[,ROLE...] [--ttl SECONDS] [--subject SUB]',
    summary: 'issue a bearer JWT for a partition (prints only the token)',
    details:
      `ROLE: ${ROLE_LIST}.\n` +
      'Signs with JWT_PRIVATE_KEY_FILE, else the development key in TSB_DATA_DIR.\n' +
      'A token cannot be revoked: it is valid until it expires, so keep --ttl short.\n' +
      'Example: TOKEN=$(npx tsb token issue --partition demo --roles keyManagement)',
    options: {
      partition: { type: 'string', description: 'partition name' },
      roles: { type: 'string', description: 'comma-separated roles' },
      ttl: { type: 'string', default: '3600', description: 'lifetime in seconds (default 3600)' },
      subject: { type: 'string', description: 'the "sub" claim (default: the partition name)' },
    },
    positionals: [],
    usesTokenKeys: true,
    async run({ values, io, config, withDatabase }) {
      const command = 'token issue';
      const partitionName = requiredString(values, 'partition', command);
      const roleList = parseRoleOption(requiredString(values, 'roles', command), command);
      const ttlText = String(values['ttl']);
      const ttlSeconds = Number(ttlText);
      if (!/^\d+$/.test(ttlText) || ttlSeconds < 1) {
        throw new UsageError(`--ttl must be a positive number of seconds (got "${ttlText}")`, command);
      }
      // opening the database checks (or, for an unused one, makes) the development JWT key first
      await withDatabase((prisma) => requirePartition(prisma, partitionName));
      const issuer = createJwtIssuer(config);
      const subject = typeof values['subject'] === 'string' ? values['subject'] : undefined;
      const token = await issuer.issueToken({
        partition: partitionName,
        roles: roleList,
        ttlSeconds,
        ...(subject ? { subject } : {}),
      });
      io.stdout(`${token}\n`);
    },
  },
];
