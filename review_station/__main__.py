from review_station.cli import main

raise SystemExit(main())
