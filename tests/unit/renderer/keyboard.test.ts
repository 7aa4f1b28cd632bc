// The viewer's keyboard map: every shortcut reaches the right action, editing keys wait for labels,
// modifiers and text fields keep their own keys.
import { describe, expect, it } from 'vitest';
import {
  handleViewerKey,
  type KeyboardEditor,
  type ViewerKeyActions,
  type ViewerKeyEvent,
} from '../../../src-renderer/lib/viewer/keyboard';

function setup(attached = true) {
  const calls: string[] = [];
  const editor: KeyboardEditor = {
    attached,
    classes: [{ value: 1 }, { value: 2 }, { value: 3 }],
    activeSegment: 1,
    brushRadiusMm: 4,
    sphere: false,
    scissors3d: false,
    outline: true,
    undo: () => calls.push('undo'),
    redo: () => calls.push('redo'),
    cancelTool: () => calls.push('cancelTool'),
    setBrushRadius(mm) {
      calls.push(`brush ${mm}`);
      this.brushRadiusMm = mm;
    },
    applyStyle: () => calls.push('applyStyle'),
    toggleSet: (which, value) => calls.push(`toggle ${which} ${value}`),
  };
  const actions: ViewerKeyActions = {
    editor,
    toggleCheatSheet: () => calls.push('cheatSheet'),
    closeCheatSheet: () => calls.push('closeCheatSheet'),
    setTool: (t) => calls.push(`tool ${t}`),
    runAction: (a) => calls.push(`action ${a}`),
    scroll: (d) => calls.push(`scroll ${d}`),
    reset: () => calls.push('reset'),
    setMode: (m) => calls.push(`mode ${m}`),
    applyWl: (wl) => calls.push(`wl ${wl.width}/${wl.center}`),
  };
  /** Presses a key; returns whether the event's default was prevented. */
  const press = (key: string, mods: Partial<ViewerKeyEvent> = {}): boolean => {
    let prevented = false;
    handleViewerKey(
      {
        key,
        code: mods.code ?? '',
        ctrlKey: false,
        metaKey: false,
        altKey: false,
        shiftKey: false,
        target: null,
        ...mods,
        preventDefault: () => (prevented = true),
      },
      actions,
    );
    return prevented;
  };
  return { calls, editor, press };
}

describe('viewer keyboard map', () => {
  it('tool and segment-action keys act only once labels are attached', () => {
    const off = setup(false);
    for (const k of ['b', 'E', 't', 's', 'c', 'f', 'p', 'k', 'i', 'm']) off.press(k);
    expect(off.calls).toEqual([]);
    const on = setup(true);
    for (const k of ['b', 'E', 't', 's', 'c', 'f', 'p', 'k', 'i', 'm']) on.press(k);
    expect(on.calls).toEqual([
      'tool brush',
      'tool eraser',
      'tool threshold',
      'tool scissors',
      'tool circle',
      'tool lasso',
      'tool fill',
      'action keepLargest',
      'action interpolate',
      'action smooth',
    ]);
  });

  it('undo and redo with Ctrl or Cmd (Z, Shift+Z, Y), leaving other Ctrl keys alone', () => {
    const { calls, press } = setup();
    expect(press('z', { ctrlKey: true })).toBe(true);
    expect(press('Z', { ctrlKey: true, shiftKey: true })).toBe(true);
    expect(press('y', { metaKey: true })).toBe(true);
    expect(press('b', { ctrlKey: true })).toBe(false);
    expect(press('z', { ctrlKey: true, altKey: true })).toBe(false);
    expect(press('1', { altKey: true })).toBe(false);
    expect(calls).toEqual(['undo', 'redo', 'redo']);
  });

  it('cheat sheet, Escape, segments, brush size and label style', () => {
    const { calls, editor, press } = setup();
    press('?');
    press('Escape');
    press('!', { shiftKey: true, code: 'Digit3' });
    expect(editor.activeSegment).toBe(3);
    press('(', { shiftKey: true, code: 'Digit9' }); // no ninth class: unchanged
    expect(editor.activeSegment).toBe(3);
    press(']');
    expect(editor.brushRadiusMm).toBe(4.5);
    editor.brushRadiusMm = 20;
    press('[');
    expect(editor.brushRadiusMm).toBe(17.5);
    press('g');
    press('d');
    expect([editor.sphere, editor.scissors3d]).toEqual([true, true]);
    press('o');
    expect(editor.outline).toBe(false);
    press('l');
    press('H');
    expect(calls).toEqual([
      'cheatSheet',
      'closeCheatSheet',
      'cancelTool',
      'brush 4.5',
      'brush 17.5',
      'applyStyle',
      'toggle locked 3',
      'toggle hidden 3',
    ]);
  });

  it('scrolls by one or ten slices, resets, switches modes and W/L presets', () => {
    const { calls, press } = setup();
    expect(press('ArrowUp')).toBe(true);
    expect(press('ArrowDown')).toBe(true);
    expect(press('PageUp')).toBe(true);
    expect(press('PageDown')).toBe(true);
    press('r');
    press('W');
    press('x');
    press('3');
    press('4');
    press('9');
    expect(calls).toEqual([
      'scroll 1',
      'scroll -1',
      'scroll 10',
      'scroll -10',
      'reset',
      'mode wl',
      'mode cursor',
      'wl 1800/400',
      'wl 1500/-600',
    ]);
  });

  it('ignores keys typed into text fields', () => {
    const { calls, press } = setup();
    for (const tagName of ['INPUT', 'SELECT', 'TEXTAREA']) {
      press('b', { target: { tagName } });
      press('z', { target: { tagName }, ctrlKey: true });
      press('ArrowUp', { target: { tagName } });
    }
    press('b', { target: { tagName: 'DIV' } });
    expect(calls).toEqual(['tool brush']);
  });
});
