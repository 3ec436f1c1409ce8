from mlops_decl.cli.main import main

main()
