// Fault tests start processes, kill them and measure rates: one at a time, on a quiet machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
