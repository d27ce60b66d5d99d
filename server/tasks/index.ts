/** The tasks module as other parts see it: its repositories stay private (dependency-cruiser checks). */

export { listApprovals } from './approval.repository';
export { approvalRecordedEvent, deciderOf } from './approval-decider';
export {
  argsDigestField,
  argsPreviewField,
  consoleDecisionSchema,
  listApprovalRequestsQuery,
  waitQuery,
  workloadDecisionSchema,
} from './approval-request.schema';
export {
  type ApprovalRequestService,
  type ApprovalRequestServiceDeps,
  createApprovalRequestService,
} from './approval-request.service';
export type { ApprovalRequestView } from './approval-request.view';
export { consumeSingleUse, liveApprovals, privilegedWithout, releaseApprovalsOf } from './approvals';
export { TaskNotFound, TaskNotOpen } from './task.errors';
export { findTask as loadTask } from './task.repository';
export {
  authorizeOnTask,
  createTaskService,
  type TaskService,
  type TaskServiceDeps,
} from './task.service';
export { approvalView, type TaskView, taskView } from './task.view';
export { closeTask, finishClose, type GrantsOfTask } from './task-close';
export { expireTasks } from './task-expiry';
export { taskFacts } from './task-facts';
export {
  drawTaskActions,
  drawTaskBudget,
  grantSlotStep,
  releaseActive,
  returnGrantSlot,
  returnTaskActions,
  returnTaskBudget,
  takeGrantSlot,
  whySlotRefused,
} from './task-limits';
export { admitsHolder, requireAdmitted } from './task-targets';
