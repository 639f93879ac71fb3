import { describe, expect, it } from 'vitest';
import { TsbError } from '../../../src/errors.js';
import { parseMultipart } from '../../../src/http/multipart.js';

const TYPE = 'multipart/form-data; boundary=XyZ';
const part = (headers: string, data: string) => `--XyZ\r\n${headers}\r\n\r\n${data}\r\n`;

function refused(body: string, type = TYPE): TsbError {
  try {
    parseMultipart(Buffer.from(body, 'latin1'), type);
  } catch (error) {
    expect(error).toBeInstanceOf(TsbError);
    expect((error as TsbError).errorCode).toBe(600);
    return error as TsbError;
  }
  throw new Error('accepted');
}

describe('parseMultipart', () => {
  it('reads named parts, their file name and type, bytes as sent (CRLF inside data kept)', () => {
    const body =
      'preamble\r\n' +
      part('Content-Disposition: form-data; name="a"', '{"x":1}') +
      part(
        'content-disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: text/plain',
        'l1\r\nl2\r\n--Xy',
      ) +
      '--XyZ--\r\n';
    const parts = parseMultipart(Buffer.from(body), 'multipart/form-data; boundary="XyZ"');
    expect(parts.get('a')).toMatchObject({ name: 'a', filename: null, contentType: null });
    expect(parts.get('a')!.data.toString()).toBe('{"x":1}');
    expect(parts.get('file')).toMatchObject({ filename: 'f.bin', contentType: 'text/plain' });
    expect(parts.get('file')!.data.toString()).toBe('l1\r\nl2\r\n--Xy');
  });

  it('refuses what is not well framed with 600', () => {
    refused(part('Content-Disposition: form-data; name="a"', 'x'), 'multipart/form-data');
    refused('nothing');
    refused(part('Content-Disposition: form-data; name="a"', 'x'));
    refused(`--XyZ\r\nContent-Disposition: form-data; name="a"\r\n`);
    refused(
      `${part('Content-Disposition: form-data; name="a"', 'x')}${part('Content-Disposition: form-data; name="a"', 'y')}--XyZ--`,
    );
    refused(`${part('Content-Disposition: attachment; name="a"', 'x')}--XyZ--`);
    refused(`${part('Content-Disposition: form-data', 'x')}--XyZ--`);
    refused(`${part('no colon here', 'x')}--XyZ--`);
    refused(`--XyZjunk${part('Content-Disposition: form-data; name="a"', 'x')}--XyZ--`);
    refused(
      `${Array.from({ length: 17 }, (_, i) => part(`Content-Disposition: form-data; name="p${i}"`, 'x')).join('')}--XyZ--`,
    );
  });
});
