#!/usr/bin/python3
"""simpy_kofn.py: the kofn-queue scenario in SimPy 3, the yardstick for
stragsim's speed (bench/run.sh runs it next to the real tool).

Scenario: N = 12 FIFO workers, Poisson job arrivals at rate 0.5, each job
sends one task of cost 1 to every worker, task duration 0.2 + Exp(1.25), the
job is done at its 9th completion and its other 3 tasks are cancelled
(queued ones removed, running ones preempted). Mean latency is about 1.61.

Two models of the same thing:
- idiomatic: processes and events, a simpy.Resource per worker, the job
  process waits on an event and interrupts the tasks left over (the way the
  SimPy documentation would write it);
- callbacks: no processes; bare Timeout events with callbacks, a deque per
  worker and a cancelled flag per task (the fastest SimPy we know how to
  write without leaving SimPy).

Needs Debian's python3-simpy3 (SimPy 3.0). Prints one line per model:
  simpy-<model> jobs=<n> seconds=<wall> cpu_seconds=<cpu> jobs_per_cpu_s=<x>
      latency_mean=<m> latency_se=<se>
CPU time is the figure to compare: wall time on a shared machine measures
the neighbours.
"""
import argparse
import collections
import math
import random
import sys
import time

import simpy

WORKERS, K = 12, 9
ARRIVAL_RATE, SHIFT, SERVICE_RATE = 0.5, 0.2, 1.25


class Stats:
    def __init__(self):
        self.n, self.sum, self.sumsq = 0, 0.0, 0.0

    def add(self, x):
        self.n += 1
        self.sum += x
        self.sumsq += x * x

    def mean_se(self):
        mean = self.sum / self.n
        return mean, math.sqrt(max(self.sumsq / self.n - mean * mean, 0.0) / self.n)


def duration(rng):
    return SHIFT + rng.expovariate(SERVICE_RATE)


# ---- idiomatic: processes, Resource per worker, interrupts ----

def run_idiomatic(jobs, seed):
    env = simpy.Environment()
    workers = [simpy.Resource(env, capacity=1) for _ in range(WORKERS)]
    arrivals = random.Random(seed)
    service = [random.Random(seed * 1000 + w + 1) for w in range(WORKERS)]
    stats = Stats()

    def task(w, job):
        try:
            with workers[w].request() as req:
                yield req
                yield env.timeout(duration(service[w]))
        except simpy.Interrupt:
            return  # leaving the with-block withdraws or releases the request
        job["completions"] += 1
        if job["completions"] == K:
            job["done"].succeed()

    def job_process():
        start = env.now
        job = {"completions": 0, "done": env.event()}
        tasks = [env.process(task(w, job)) for w in range(WORKERS)]
        yield job["done"]
        stats.add(env.now - start)
        for p in tasks:
            if p.is_alive:
                p.interrupt()

    def source():
        for _ in range(jobs):
            yield env.timeout(arrivals.expovariate(ARRIVAL_RATE))
            env.process(job_process())

    env.process(source())
    env.run()
    return stats


# ---- callbacks: bare timeouts, deques, cancelled flags ----

def run_callbacks(jobs, seed):
    env = simpy.Environment()
    arrivals = random.Random(seed)
    service = [random.Random(seed * 1000 + w + 1) for w in range(WORKERS)]
    queues = [collections.deque() for _ in range(WORKERS)]
    running = [None] * WORKERS  # task running on each worker
    stats = Stats()
    opened = [0]

    # a task is a list [worker, job, cancelled]; a job is [start, completions, tasks]
    def start_next(w):
        q = queues[w]
        while q:
            t = q.popleft()
            if not t[2]:
                running[w] = t
                env.timeout(duration(service[w])).callbacks.append(lambda ev, t=t: complete(t))
                return
        running[w] = None

    def complete(t):
        if t[2]:
            return  # preempted: its worker has moved on already
        w, job = t[0], t[1]
        t[2] = True
        job[1] += 1
        if job[1] == K:
            stats.add(env.now - job[0])
            for other in job[2]:
                if not other[2]:
                    other[2] = True
                    if running[other[0]] is other:
                        start_next(other[0])
        start_next(w)

    def arrive(_ev=None):
        job = [env.now, 0, None]
        job[2] = tasks = [[w, job, False] for w in range(WORKERS)]
        for t in tasks:
            queues[t[0]].append(t)
            if running[t[0]] is None:
                start_next(t[0])
        opened[0] += 1
        if opened[0] < jobs:
            env.timeout(arrivals.expovariate(ARRIVAL_RATE)).callbacks.append(arrive)

    env.timeout(arrivals.expovariate(ARRIVAL_RATE)).callbacks.append(arrive)
    env.run()
    return stats


MODELS = {"idiomatic": run_idiomatic, "callbacks": run_callbacks}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", choices=sorted(MODELS) + ["both"], default="both")
    args = ap.parse_args()
    if args.jobs < 2:
        ap.error("--jobs must be >= 2")
    names = sorted(MODELS, reverse=True) if args.model == "both" else [args.model]
    for name in names:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        stats = MODELS[name](args.jobs, args.seed)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        mean, se = stats.mean_se()
        print(f"simpy-{name} jobs={stats.n} seconds={wall:.3f} cpu_seconds={cpu:.3f} "
              f"jobs_per_cpu_s={stats.n / cpu:.0f} latency_mean={mean:.4f} latency_se={se:.4f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
