"""What the monitor kind keeps on SageMaker: its baseline files and job definition."""
