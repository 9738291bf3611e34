# Empty dependencies file for imc_fakeserver.
# This may be replaced when dependencies are built.
