// The viewer's parts that run on Cornerstone3D and vtk.js (most of the bundle): the viewer loads them
// on its own after it shows, so its frame, tools and the preview of the first case do not wait for them.
export { MprViewer } from './mpr';
export { LabelmapOverlay } from '../labels/labelmapOverlay';
