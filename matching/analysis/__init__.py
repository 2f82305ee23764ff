"""Text analysis: normalisation and stemming (French, foreign, Arabic), language detection,
phrase lexicons, typo correction and the request query built from them."""
