from slidewatch.cli import main

main()
