from neon_sync.cli import main

main()
