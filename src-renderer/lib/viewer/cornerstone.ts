// One-time Cornerstone3D core + tools initialisation, and the tool bindings of the MPR and 3D views.
import { init as coreInit } from '@cornerstonejs/core';
import {
  addTool,
  init as toolsInit,
  Enums as ToolEnums,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  TrackballRotateTool,
  WindowLevelTool,
  ZoomTool,
  type Types as ToolTypes,
} from '@cornerstonejs/tools';

let initialised = false;

export function initCornerstone(): void {
  if (initialised) return;
  coreInit();
  toolsInit();
  for (const tool of [PanTool, ZoomTool, StackScrollTool, WindowLevelTool, TrackballRotateTool]) addTool(tool);
  initialised = true;
}

/**
 * What the left mouse button does: move the crosshair cursor (ITK-SNAP habit), drag W/L, or edit
 * labels (the MprViewer then hands pointer events to the label tools).
 */
export type PrimaryMode = 'cursor' | 'wl' | 'edit';

const { MouseBindings } = ToolEnums;

/** A new tool group `id` (replacing one of that id) with `tools` added, over the viewports. */
function freshToolGroup(
  id: string,
  renderingEngineId: string,
  viewportIds: string[],
  tools: { toolName: string }[],
): ToolTypes.IToolGroup {
  ToolGroupManager.destroyToolGroup(id);
  const group = ToolGroupManager.createToolGroup(id);
  if (!group) throw new Error(`could not create tool group ${id}`);
  for (const tool of tools) group.addTool(tool.toolName);
  for (const vp of viewportIds) group.addViewport(vp, renderingEngineId);
  return group;
}

export function createViewerToolGroup(
  id: string,
  renderingEngineId: string,
  viewportIds: string[],
): ToolTypes.IToolGroup {
  const group = freshToolGroup(id, renderingEngineId, viewportIds, [
    PanTool,
    ZoomTool,
    StackScrollTool,
    WindowLevelTool,
  ]);
  group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
  group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  setPrimaryMode(group, 'cursor');
  return group;
}

export function setPrimaryMode(group: ToolTypes.IToolGroup, mode: PrimaryMode): void {
  if (mode === 'wl') {
    group.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  } else {
    group.setToolPassive(WindowLevelTool.toolName);
  }
}

/** The 3D label view's mouse: left drag rotates (trackball), right drag zooms, middle drag pans. */
export function createView3DToolGroup(
  id: string,
  renderingEngineId: string,
  viewportIds: string[],
): ToolTypes.IToolGroup {
  const group = freshToolGroup(id, renderingEngineId, viewportIds, [TrackballRotateTool, ZoomTool, PanTool]);
  group.setToolActive(TrackballRotateTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
  return group;
}
