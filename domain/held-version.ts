// A reference to the version of a persistent map a memo (the ADL ranking, the liquidatable index)
// is up to date with: strong until the end of the current job (the synchronous run of code before
// the next microtask checkpoint), weak after it.
//
// Weak, so that a memo never keeps an old pool alive: holding a version keeps alive every newer
// version's changes (the rerooting map links each version to the next). But a WeakRef keeps its
// target alive until the end of the job in which it was made or read, so a long synchronous run
// (a stress run to its end) that made one per step would keep every version it ever made alive,
// and the garbage collector would copy and mark all of them. Strong within the job, the memo holds
// only the newest version it synced to; weakened once, when the job ends.

export class HeldVersion<T extends object> {
  private strong: T | undefined;
  private weak: WeakRef<T> | undefined;
  private weakening = false;

  get(): T | undefined {
    return this.strong ?? this.weak?.deref();
  }

  set(value: T): void {
    this.strong = value;
    this.weak = undefined;
    if (this.weakening) return;
    this.weakening = true;
    queueMicrotask(() => {
      this.weakening = false;
      if (this.strong === undefined) return;
      this.weak = new WeakRef(this.strong);
      this.strong = undefined;
    });
  }
}
