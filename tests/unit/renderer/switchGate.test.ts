// The project switch runs alone: calls in flight finish before it, calls made during it wait, a failed
// switch lets them go to the project still served, a successful one keeps them from the new project.
import { describe, expect, it } from 'vitest';
import { SwitchGate } from '../../../src-renderer/lib/api/switchGate';
import type { DeformuxApi } from '../../../src-main/api/contract';

/** A transport whose calls resolve when the test says so, recording what was sent and to which project. */
function fakeApi() {
  let project = 'A';
  const sent: string[] = [];
  const open: (() => void)[] = [];
  const api = {
    call: (method: string) => {
      sent.push(`${method}@${project}`);
      if (method === 'projects.open') {
        project = 'B';
        return Promise.resolve({});
      }
      if (method === 'projects.fail') return Promise.reject(new Error('projects.open failed: no such folder'));
      return new Promise((resolve) => open.push(() => resolve(project)));
    },
    binary: () => Promise.resolve(new ArrayBuffer(0)),
    upload: () => Promise.resolve({}),
    onEvent: () => () => {},
  } as unknown as DeformuxApi;
  return { api, sent, finishAll: () => open.splice(0).forEach((f) => f()) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('SwitchGate', () => {
  it('waits for calls in flight, holds new calls, and never sends them after a successful switch', async () => {
    const t = fakeApi();
    const gate = new SwitchGate(t.api);
    const before = gate.call('cases.labelVersions', { caseId: 'c1' });
    await tick();
    let switched = false;
    const sw = gate
      .exclusive((a) => a.call('projects.open', { dir: '/b' }))
      .then(() => {
        switched = true;
      });
    const during = gate.call('cases.list', {});
    await tick();
    // The switch waits for the call in flight; the new call is not sent.
    expect(switched).toBe(false);
    expect(t.sent).toEqual(['cases.labelVersions@A']);
    expect(gate.holding).toBe(true);
    t.finishAll();
    await expect(before).resolves.toBe('A');
    await sw;
    expect(switched).toBe(true);
    await tick();
    expect(t.sent).toEqual(['cases.labelVersions@A', 'projects.open@A']);
    let settled = false;
    void during.finally(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
  });

  it('a failed switch releases the held calls to the project still served', async () => {
    const t = fakeApi();
    const gate = new SwitchGate(t.api);
    const sw = gate.exclusive((a) => a.call('projects.fail' as 'projects.open', { dir: '/missing' }));
    const during = gate.call('cases.list', {});
    await expect(sw).rejects.toThrow('no such folder');
    await tick();
    expect(gate.holding).toBe(false);
    t.finishAll();
    await expect(during).resolves.toBe('A');
    expect(t.sent).toEqual(['projects.fail@A', 'cases.list@A']);
  });

  it('goes ahead after the drain timeout when a call in flight never ends', async () => {
    const t = fakeApi();
    const gate = new SwitchGate(t.api);
    void gate.call('cases.list', {});
    await tick();
    await gate.exclusive((a) => a.call('projects.open', { dir: '/b' }), 20);
    expect(t.sent).toEqual(['cases.list@A', 'projects.open@A']);
  });
});
