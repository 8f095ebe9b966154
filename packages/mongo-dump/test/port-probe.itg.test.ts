import { expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { rejectionOf } from '../../../test/support/rejection.js';
import { MongoDumpError } from '../src/index.js';
import { connectMongo } from '../src/internal/connect.js';
import { openPortProbe, probeTarget } from '../src/internal/port-probe.js';

describeWithServices(['mongo'], 'the raw TCP probe against the real MongoDB-wire server', () => {
  const target = () => probeTarget(serviceVar('TEST_MONGO_URL'))!;

  test('with a hello, the server\'s reply opens the gate as MongoDB (the driver starts on it, without the silent wait)', async () => {
    const probe = openPortProbe(target(), { hello: true });
    try {
      expect(await probe.gate).toEqual({ kind: 'mongo' });
      expect(probe.report).toEqual({ accepted: true, closedSilently: false, answered: true });
    } finally {
      probe.close();
    }
  });

  test('without a hello (TLS URLs), the server says nothing and the gate opens as silent', async () => {
    const probe = openPortProbe(target(), { hello: false });
    try {
      expect(await probe.gate).toEqual({ kind: 'silent' });
    } finally {
      probe.close();
    }
  });
});

describeWithServices(['mongoTls'], 'a plain-text URL at the TLS listener', () => {
  const plainAtTls = () => serviceVar('TEST_MONGO_TLS_URL').replace(/\?.*$/, '').replace('mongodb://', 'mongodb://admin:hunter2@');

  test('the probe\'s hello gets no MongoDB reply: the gate never opens as MongoDB', async () => {
    const probe = openPortProbe(probeTarget(plainAtTls())!, { hello: true });
    try {
      expect((await probe.gate).kind).not.toBe('mongo');
    } finally {
      probe.close();
    }
  });

  test('the connect fails on the probe\'s answer, not after the driver\'s server selection timeout, and suggests tls=true', async () => {
    // A selection timeout longer than the test's: only the probe can end this attempt in time.
    const error = await rejectionOf(() => connectMongo(plainAtTls(), { serverSelectionTimeoutMS: 60_000 }));
    expect(error).toBeInstanceOf(MongoDumpError);
    expect(error.message).toContain('add tls=true');
    expect(error.message).not.toContain('hunter2');
  }, 20_000);
});
