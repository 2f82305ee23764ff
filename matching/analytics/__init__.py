"""Analytics: coverage of the labelled expertise, its charts, and ranking evaluation."""
