// Which submitted cases a project holds out from fine-tuning: one rule for the store (store/training-rows.ts
// updateHoldout) and for `bench finetune --sequence`, which replays a project's first submissions.

/** How many holdout cases `submitted` submitted cases call for: 1 of every 5, the first at the 3rd case. */
export function holdoutTarget(submitted: number): number {
  return Math.floor((submitted + 2) / 5);
}

/**
 * The cases to add to the holdout, in order: while it is short of its target, a submitted case never trained on,
 * preferring the one at the rule's place in submission order (the 3rd, 8th, 13th, ...), then the latest. Cases
 * once held stay held (the caller keeps them).
 */
export function nextHoldoutIds(
  submittedInOrder: readonly string[],
  held: ReadonlySet<string>,
  trainedOn: ReadonlySet<string>,
): string[] {
  const target = holdoutTarget(submittedInOrder.length);
  const free = submittedInOrder
    .map((id, index) => ({ id, index }))
    .filter((c) => !held.has(c.id) && !trainedOn.has(c.id));
  const preferred = [...free.filter((c) => c.index % 5 === 2), ...free.filter((c) => c.index % 5 !== 2).reverse()];
  return preferred.slice(0, Math.max(0, target - held.size)).map((c) => c.id);
}
