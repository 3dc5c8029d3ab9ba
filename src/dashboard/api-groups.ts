import type {
  ActivityInfo,
  GroupChangeRequest,
  GroupDetail,
  GroupFolderView,
  NewTaskRequest,
  RunChangesInfo,
  SchedulePreview,
  UsageInfo,
} from '../channels/web/dashboard-types-groups.js';
import { call } from './api.js';

export type * from '../channels/web/dashboard-types-groups.js';

const groupPath = (name: string) => `/api/groups/${encodeURIComponent(name)}`;

/** The host's group, task, activity and usage routes (owner-api-groups.ts), typed. */
export const groupsApi = {
  group: (name: string) => call<GroupDetail>('GET', groupPath(name)),
  createGroup: (request: Omit<Extract<GroupChangeRequest, { action: 'create' }>, 'action'>) =>
    call<{ group: GroupDetail; text: string }>('POST', '/api/groups', {
      action: 'create',
      ...request,
    }),
  changeGroup: (name: string, change: Exclude<GroupChangeRequest, { action: 'create' }>) =>
    call<{ group: GroupDetail | null; text: string }>('POST', groupPath(name), change),
  previewSchedule: (schedule: Record<string, unknown>) =>
    call<SchedulePreview>('POST', '/api/tasks/preview', { schedule }),
  createTask: (request: NewTaskRequest) => call<{ id: number }>('POST', '/api/tasks', request),
  runTaskNow: (id: number) => call<{ started: boolean }>('POST', `/api/tasks/${id}/run`),
  activity: () => call<ActivityInfo>('GET', '/api/activity'),
  usage: () => call<UsageInfo>('GET', '/api/usage'),
  files: (group: string, path: string) =>
    call<GroupFolderView>('GET', `${groupPath(group)}/files?path=${encodeURIComponent(path)}`),
  changes: (group: string) => call<RunChangesInfo>('GET', `${groupPath(group)}/changes`),
};
