from matching.cli import main

raise SystemExit(main())
