/**
 * The SoftHSM2 peer of the sign bench: SoftHSM2's PKCS#11 library called in-process through pkcs11js, on a
 * token made under a temporary directory (SOFTHSM2_CONF), one session key per curve (a found-once handle,
 * like our cached key). Ed25519 signs with CKM_EDDSA; P-256 with CKM_ECDSA over a SHA-256 computed in JS and
 * counted in the time (SoftHSM 2.6 has no CKM_ECDSA_SHA256). Each sign is C_SignInit + C_Sign, 32-byte
 * messages, as in /work/shared/reference/performance.md. Measured twice: one session signing synchronously,
 * and four sessions each with one asynchronous C_Sign in flight (libuv's thread pool); the better is the peer
 * figure. Answers null with the reason when the library or pkcs11js is absent.
 *
 * Environment: SOFTHSM2_LIB (default: the Debian/Ubuntu and Fedora paths of libsofthsm2.so).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type * as Pkcs11Module from 'pkcs11js';

const LIBRARY_PATHS = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
const CKK_EC_EDWARDS = 0x40;

/** DER OIDs for CKA_EC_PARAMS */
const CURVES = {
  Ed25519: { params: Buffer.from('06032b6570', 'hex'), edwards: true },
  'P-256': { params: Buffer.from('06082a8648ce3d030107', 'hex'), edwards: false },
} as const;

export type SoftHsmCurve = keyof typeof CURVES;

export interface SoftHsmFigures {
  /** the better of the two ways */
  signsPerSecond: number;
  oneSession: number;
  fourSessionsAsync: number;
  library: string;
  version: string;
}

export type SoftHsmResult = { ok: true; figures: SoftHsmFigures } | { ok: false; reason: string };

export function isSoftHsmCurve(name: string): name is SoftHsmCurve {
  return name in CURVES;
}

/** Sign rates of SoftHSM2 for `curves`, `seconds` per way; one token for all, removed at the end. */
export async function softHsmSignRates(
  curves: readonly SoftHsmCurve[],
  seconds: number,
): Promise<Map<SoftHsmCurve, SoftHsmResult>> {
  const results = new Map<SoftHsmCurve, SoftHsmResult>();
  const absent = (reason: string) => {
    for (const curve of curves) results.set(curve, { ok: false, reason });
    return results;
  };
  const library = [process.env.SOFTHSM2_LIB, ...LIBRARY_PATHS].find((p) => p && existsSync(p));
  if (!library) return absent('SoftHSM2 is not installed (no libsofthsm2.so; apt-get install softhsm2)');
  let pkcs11js: typeof Pkcs11Module;
  try {
    pkcs11js = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11Module;
  } catch (error) {
    return absent(`pkcs11js could not be loaded: ${(error as Error).message}`);
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), 'opentsb-softhsm-'));
  const previousConf = process.env.SOFTHSM2_CONF;
  const pkcs11 = new pkcs11js.PKCS11();
  let initialized = false;
  try {
    mkdirSync(path.join(dir, 'tokens'));
    const conf = path.join(dir, 'softhsm2.conf');
    writeFileSync(
      conf,
      `directories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    process.env.SOFTHSM2_CONF = conf;
    const pin = '1234';
    const env = { ...process.env, SOFTHSM2_CONF: conf };
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'bench', '--so-pin', pin, '--pin', pin],
      {
        env,
        stdio: 'ignore',
      },
    );
    const version = execFileSync('softhsm2-util', ['--version'], { env }).toString().trim();
    pkcs11.load(library);
    // OS locking: the asynchronous C_Sign calls run on several threads at once
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    initialized = true;
    const slot = pkcs11.C_GetSlotList(true)[0];
    if (!slot) return absent('the SoftHSM2 token made for the bench has no slot');
    const openSession = () => {
      const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      return session;
    };
    const main = openSession();
    pkcs11.C_Login(main, pkcs11js.CKU_USER, pin); // login is per token: the other sessions share it
    const sessions = [main, openSession(), openSession(), openSession()];

    for (const curve of curves) {
      const { params, edwards } = CURVES[curve];
      const keys = pkcs11.C_GenerateKeyPair(
        main,
        { mechanism: edwards ? CKM_EC_EDWARDS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN },
        [
          { type: pkcs11js.CKA_TOKEN, value: false },
          { type: pkcs11js.CKA_VERIFY, value: true },
          { type: pkcs11js.CKA_EC_PARAMS, value: params },
          ...(edwards ? [{ type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS }] : []),
        ],
        [
          { type: pkcs11js.CKA_TOKEN, value: false },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_SIGN, value: true },
          ...(edwards ? [{ type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS }] : []),
        ],
      );
      const mechanism = { mechanism: edwards ? CKM_EDDSA : pkcs11js.CKM_ECDSA };
      const message = randomBytes(32);
      const input = () => (edwards ? message : createHash('sha256').update(message).digest());

      const oneSession = (runSeconds: number) => {
        const out = Buffer.alloc(128);
        let count = 0;
        const start = performance.now();
        const end = start + runSeconds * 1000;
        while (performance.now() < end) {
          pkcs11.C_SignInit(main, mechanism, keys.privateKey);
          pkcs11.C_Sign(main, input(), out);
          count++;
        }
        return count / ((performance.now() - start) / 1000);
      };
      const asyncSessions = async (runSeconds: number) => {
        let count = 0;
        const start = performance.now();
        const end = start + runSeconds * 1000;
        await Promise.all(
          sessions.map(async (session) => {
            const out = Buffer.alloc(128);
            while (performance.now() < end) {
              pkcs11.C_SignInit(session, mechanism, keys.privateKey);
              await new Promise<void>((resolve, reject) =>
                pkcs11.C_Sign(session, input(), out, (error) => (error ? reject(error) : resolve())),
              );
              count++;
            }
          }),
        );
        return count / ((performance.now() - start) / 1000);
      };
      oneSession(Math.min(0.5, seconds / 4)); // warm-up
      const one = oneSession(seconds);
      await asyncSessions(Math.min(0.5, seconds / 4));
      const four = await asyncSessions(seconds);
      results.set(curve, {
        ok: true,
        figures: {
          signsPerSecond: Math.max(one, four),
          oneSession: one,
          fourSessionsAsync: four,
          library,
          version,
        },
      });
    }
    return results;
  } catch (error) {
    return absent(`SoftHSM2 failed: ${(error as Error).message}`);
  } finally {
    if (initialized) {
      try {
        pkcs11.C_Finalize();
      } catch {
        // the measurement is done
      }
    }
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previousConf;
    rmSync(dir, { recursive: true, force: true });
  }
}
