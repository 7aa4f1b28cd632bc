// DICOMweb failure modes: a server that stops mid-transfer (through a proxy in front of a real Orthanc:
// clear error, nothing half-imported, the next import works), malformed multipart bodies, a slow
// endless answer cancelled by AbortSignal or by the idle timeout, bearer tokens, retries with back-off.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomwebClient } from '../../src-main/dicomweb/client';
import { resolveCliAuth } from '../../src-main/dicomweb/credentials';
import { DicomwebError, parseServiceUrl } from '../../src-main/dicomweb/http';
import { importRemoteSeries } from '../../src-main/dicomweb/import';
import { readMultipart, writeMultipart } from '../../src-main/dicomweb/multipart';
import { generatePhantom } from '../../src-main/phantom';
import { ProjectStore } from '../../src-main/store/project';
import { HAS_ORTHANC, startOrthanc, uploadToOrthanc, type RunningOrthanc } from './orthanc';
import { phantomToDicom } from './phantom-dicom';

const tmp = mkdtempSync(join(tmpdir(), 'deformux-dicomweb-fail-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A throwaway HTTP server on a free loopback port. */
async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/dicom-web`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function* chunksOf(body: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < body.length; at += size) yield body.subarray(at, at + size);
}

const fakeDicom = (n: number): Buffer => {
  const b = Buffer.alloc(300 + n, n & 0xff);
  b.write('DICM', 128, 'latin1');
  return b;
};

describe('multipart/related reader', () => {
  it('yields every part byte-exact whatever the chunking (delimiters split across chunks)', async () => {
    const parts = [fakeDicom(1), fakeDicom(1000), fakeDicom(77)];
    // A body that contains "--" and CRLF runs inside a part must not end it early.
    parts[1].write('\r\n--not-the-boundary\r\n', 200, 'latin1');
    const { body, contentType } = writeMultipart(parts);
    const boundary = /boundary=(\S+)/.exec(contentType)![1];
    for (const size of [1, 3, 7, 64, 100_000]) {
      const got: Buffer[] = [];
      for await (const p of readMultipart(chunksOf(body, size), boundary, 'test body')) {
        expect(p.headers['content-type']).toBe('application/dicom');
        got.push(p.body);
      }
      expect(got.map((b) => b.toString('hex'))).toEqual(parts.map((b) => b.toString('hex')));
    }
  });

  it('a body without its closing boundary, or with no boundary at all, is a clear error', async () => {
    const { body, contentType } = writeMultipart([fakeDicom(5), fakeDicom(6)]);
    const boundary = /boundary=(\S+)/.exec(contentType)![1];
    const cut = body.subarray(0, body.length - 60);
    const read = async (b: Buffer, bd: string): Promise<unknown> => {
      try {
        for await (const _ of readMultipart(chunksOf(b, 50), bd, 'series X')) void _;
        return null;
      } catch (err) {
        return err;
      }
    };
    expect(String(await read(cut, boundary))).toMatch(
      /series X: the multipart body ended after 1 complete part\(s\) without its closing boundary/,
    );
    expect(String(await read(Buffer.from('hello world, not multipart'), boundary))).toMatch(
      /series X: malformed multipart body \(no boundary delimiter/,
    );
    const noHeaderEnd = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Type: application/dicom`),
      Buffer.alloc(20000, 0x41),
    ]);
    expect(String(await read(noHeaderEnd, boundary))).toMatch(
      /malformed multipart body \(part 1 has no end of its headers\)/,
    );
  });
});

describe('DICOMweb client against misbehaving servers', () => {
  it('a malformed multipart answer, and a non-DICOM part, are clear errors naming the series', async () => {
    let mode = 'garbage';
    const srv = await serve((req, res) => {
      if (mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary=XYZ' });
        res.end('this is not a multipart body at all');
      } else if (mode === 'no-boundary') {
        res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"' });
        res.end('');
      } else {
        res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary=B' });
        res.end('--B\r\nContent-Type: application/dicom\r\n\r\nnot dicom bytes\r\n--B--\r\n');
      }
    });
    try {
      const c = new DicomwebClient({ baseUrl: srv.url, retries: 0 });
      const get = (): Promise<unknown> =>
        c.retrieveSeries('1.2.3', '1.2.3.4', () => undefined).catch((e: unknown) => e);
      expect(String(await get())).toMatch(
        /series 1\.2\.3\.4 from http:\/\/127\.0\.0\.1:\d+\/dicom-web\/studies\/1\.2\.3\/series\/1\.2\.3\.4: malformed multipart body/,
      );
      mode = 'no-boundary';
      expect(String(await get())).toMatch(/names no boundary/);
      mode = 'not-dicom';
      expect(String(await get())).toMatch(/part 1 is not a DICOM Part 10 instance/);
    } finally {
      await srv.close();
    }
  });

  it('an endless slow answer is cancelled by AbortSignal at once, and by the idle timeout when it stalls', async () => {
    const timers: NodeJS.Timeout[] = [];
    const srv = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary=B' });
      res.write(`--B\r\nContent-Type: application/dicom\r\n\r\n`);
      if (req.url?.includes('stall')) return; // then nothing, ever
      timers.push(setInterval(() => res.write(Buffer.alloc(4096, 1)), 20));
    });
    try {
      const c = new DicomwebClient({ baseUrl: srv.url, retries: 0, timeoutMs: 400 });
      const controller = new AbortController();
      const t0 = Date.now();
      setTimeout(() => controller.abort(new Error('cancelled by the user')), 300);
      const err = await c
        .retrieveSeries('1.2', '1.2.3', () => undefined, { signal: controller.signal })
        .catch((e: unknown) => e);
      expect(String(err)).toMatch(/cancelled by the user/);
      expect(Date.now() - t0).toBeLessThan(2000);
      const stalled = await c.retrieveSeries('1.2', 'stall', () => undefined).catch((e: unknown) => e);
      expect(String(stalled)).toMatch(/stalled for 0 s \(timed out\)|transfer stalled/);
    } finally {
      timers.forEach(clearInterval);
      await srv.close();
    }
  });

  it('bearer tokens go in the Authorization header; 5xx is retried with back-off, 4xx is not', async () => {
    const seen: string[] = [];
    let failures = 2;
    const srv = await serve((req, res) => {
      seen.push(`${req.url?.split('?')[0]} ${req.headers.authorization ?? '-'}`);
      if (req.url?.startsWith('/dicom-web/studies?') && failures-- > 0) {
        res.writeHead(503);
        res.end('busy');
        return;
      }
      if (req.headers.authorization !== 'Bearer tok-123') {
        res.writeHead(401);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/dicom+json' });
      res.end(
        JSON.stringify([{ '0020000D': { vr: 'UI', Value: ['1.2.3'] }, '00100020': { vr: 'LO', Value: ['P1'] } }]),
      );
    });
    try {
      const auth = await resolveCliAuth({ DEFORMUX_DICOMWEB_TOKEN: 'tok-123' }, undefined, undefined);
      const c = new DicomwebClient({ baseUrl: srv.url, auth, retries: 3, retryBaseMs: 10 });
      const t0 = Date.now();
      const studies = await c.searchStudies({ patientId: 'P1' });
      expect(studies.map((s) => s.patientId)).toEqual(['P1']);
      expect(seen).toHaveLength(3); // two 503s, then the answer
      expect(Date.now() - t0).toBeGreaterThanOrEqual(30); // 10 + 20 ms of back-off
      seen.length = 0;
      const wrong = new DicomwebClient({
        baseUrl: srv.url,
        auth: { kind: 'bearer', token: 'nope-secret' },
        retries: 3,
      });
      const err = await wrong.searchStudies().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DicomwebError);
      expect(String(err)).not.toContain('nope-secret');
      expect(seen).toHaveLength(1);
    } finally {
      await srv.close();
    }
  });

  it('credentials typed into the URL become basic auth and never appear in messages', () => {
    const parsed = parseServiceUrl('https://ann:pa%24%24@pacs.example.org:8443/dicom-web/');
    expect(parsed).toEqual({
      baseUrl: 'https://pacs.example.org:8443/dicom-web',
      auth: { kind: 'basic', username: 'ann', password: 'pa$$' },
    });
    expect(() => parseServiceUrl('ftp://ann:secret@x/')).toThrow(/ftp:\/\/ is not supported/);
    let message = '';
    try {
      parseServiceUrl('http://ann:secret@[bad');
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(/is not a URL/);
    expect(message).not.toContain('secret');
  });
});

describe.skipIf(!HAS_ORTHANC)('a server that stops mid-transfer (proxy in front of Orthanc)', () => {
  let orthanc: RunningOrthanc;
  let proxy: { url: string; close: () => Promise<void> };
  let cutAfterBytes = 0;

  beforeAll(async () => {
    orthanc = await startOrthanc();
    // Forwards everything; WADO series answers are cut after `cutAfterBytes` (0: not cut).
    proxy = await serve((req, res) => {
      const up = http.request(`${orthanc.rest}${req.url}`, { method: req.method, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const isSeries = /\/series\/[0-9.]+$/.test(req.url ?? '');
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (sent === Infinity) return;
          if (isSeries && cutAfterBytes > 0 && sent + chunk.length > cutAfterBytes) {
            // The server dies mid-body, once what it did send has left.
            res.write(chunk.subarray(0, cutAfterBytes - sent), () => res.socket?.destroy());
            sent = Infinity;
            upRes.destroy();
            return;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        upRes.on('end', () => res.end());
      });
      req.pipe(up);
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await orthanc?.stop();
  });

  it('clear error, no case and no partial files; the next import completes', async () => {
    const c = generatePhantom({ seed: 4, schema: 'kidney', dims: [32, 32, 12] });
    const series = phantomToDicom(c.image, { patientId: 'PH-CUT' });
    await uploadToOrthanc(orthanc.rest, series.files);
    const store = ProjectStore.create(join(tmp, 'cut-project'), { schema: 'kidney' });
    try {
      const client = new DicomwebClient({ baseUrl: proxy.url, retries: 0 });
      cutAfterBytes = Math.floor(series.files[0].length * 5.5);
      const err = await importRemoteSeries(store, client, series.studyUid, series.seriesUid).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DicomwebError);
      // 5 whole instances left the proxy before the cut; a reset (RST) can discard what the client had not read
      // yet, so under load it may have counted fewer (seen: 1). Either way nothing is imported.
      expect(String(err)).toMatch(
        /the transfer broke off after [0-5] instance\(s\).*nothing was imported|ended after [0-5] complete part/,
      );
      expect(store.listCases()).toEqual([]);
      const cache = join(store.dir, 'dicomweb');
      expect(readdirSync(cache).filter((f) => f.startsWith('.partial-'))).toEqual([]);
      expect(existsSync(join(cache, series.studyUid, series.seriesUid))).toBe(false);

      cutAfterBytes = 0;
      const r = await importRemoteSeries(store, client, series.studyUid, series.seriesUid);
      expect(r.from).toBe('server');
      expect(r.instances).toBe(12);
      expect(store.listCases().map((x) => x.id)).toEqual([r.case.id]);
      expect(Array.from((await store.loadImage(r.case.id)).data)).toEqual(
        Array.from(c.image.data, (v) => Math.round(Number(v))),
      );
    } finally {
      store.close();
    }
  });
});

describe.skipIf(spawnSync('openssl', ['version']).status !== 0)('TLS with a user CA file', () => {
  it("a server signed by a hospital's own CA is refused with a clear message, and trusted with --ca", async () => {
    const d = join(tmp, 'tls');
    mkdirSync(d);
    const ssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: d, stdio: 'ignore' });
    };
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Test Hospital CA',
    );
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(d, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'srv.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'srv.pem',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    );
    const server = https.createServer(
      { key: readFileSync(join(d, 'srv.key')), cert: readFileSync(join(d, 'srv.pem')) },
      (req, res) => {
        res.writeHead(200, { 'content-type': 'application/dicom+json' });
        res.end(JSON.stringify([{ '0020000D': { vr: 'UI', Value: ['1.2.3'] } }]));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const baseUrl = `https://127.0.0.1:${(server.address() as { port: number }).port}/dicom-web`;
    try {
      const untrusted = await new DicomwebClient({ baseUrl, retries: 0 }).searchStudies().catch((e: unknown) => e);
      expect(String(untrusted)).toMatch(
        /certificate is not trusted \((?:SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\).*--ca FILE/,
      );
      const trusted = new DicomwebClient({ baseUrl, retries: 0, caFile: join(d, 'ca.pem') });
      expect((await trusted.searchStudies()).map((s) => s.studyInstanceUid)).toEqual(['1.2.3']);
      const missing = await new DicomwebClient({ baseUrl, caFile: join(d, 'nope.pem') })
        .searchStudies()
        .catch((e: unknown) => e);
      expect(String(missing)).toMatch(/nope\.pem: the CA file cannot be read \(ENOENT\)/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
