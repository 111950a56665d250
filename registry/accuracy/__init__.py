"""How accurate the published registry is, from a random sample officers label.

    sampling.draw_sample(home, size, seed)    `registry review sample`: pairs into the queue (audit_sample)
    report.accuracy(home)                     `registry quality`: precision and recall with 95% intervals

frame.py defines what is sampled (every pair scored or put in one resident, in strata of prediction,
match-probability band and department pair), samples.py how draws are kept, estimate.py the estimator.
Only audit_sample items count: items the machine raised were chosen for being doubtful, not at random.
"""
