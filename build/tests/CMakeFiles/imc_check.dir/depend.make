# Empty dependencies file for imc_check.
# This may be replaced when dependencies are built.
